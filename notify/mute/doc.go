// Package mute decides which alerts are not notified, and says why:
// silences (Alertmanager's shape: matchers over a time range), maintenance
// windows (one-off, or recurring on a cron schedule in a time zone; from
// the targets file's `maintenance:` section or created over the API) and
// acknowledgements (an acked alert is notified once, then not reminded).
//
// The rules are pure: Matcher.Matches, Silence.StatusAt and
// Window.ActiveAt are functions of their input and a time. A Store keeps
// what the API creates, shared by the replicas (RedisStore) or on the
// disk of a standalone process (LocalStore); a Muter answers from a
// snapshot of the store it refreshes every few seconds.
//
// Key layout of RedisStore, under a prefix P:
//
//	P:mute:silences  hash: silence id -> Silence (JSON)
//	P:mute:windows   hash: window id -> Window (JSON)
//	P:mute:acks      hash: alert id -> Ack (JSON)
package mute
