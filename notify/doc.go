// Package notify delivers alert notifications to receivers: signed JSON
// webhooks (Standard Webhooks), Prometheus Alertmanager, Slack-compatible
// incoming webhooks (Slack, Mattermost, Rocket.Chat) and e-mail over SMTP.
//
// A Notification is one message about one alert of the alerts read model
// (projections) for one receiver: the alert fired or resolved. Every
// receiver is a Sender; a send either succeeds or returns an error whose
// class Classify tells: retry it (network errors, HTTP 5xx and 429, SMTP
// 4xx), give up (other 4xx, SMTP 5xx, bad input) or disable the receiver
// (HTTP 410 Gone). Backoff computes the pause before the next attempt,
// honouring a Retry-After the receiver sent.
//
// A Route decides which notifications a receiver gets; Config is the
// `receivers:` section of the configuration and builds the receivers.
//
// # Delivery pipeline
//
// On top of the senders sits a chain of small stages, one per file:
//
//   - dispatch.go: Dispatcher turns a StateChanged into notifications,
//     deriving alert ids and severities with projections.Incidents over the
//     target's transitions (kept in a TransitionLog, because a transition
//     back to UP does not name the transition that opened its incident).
//     Ids come from NewID, so every replica computes the same ones.
//   - log.go, log_redis.go, log_local.go: the notification Log, in Redis
//     (Lua scripts, keys under "<prefix>:notify:") or in a Pebble
//     directory. Claim under a lease makes one worker out of all replicas
//     attempt a notification; an expired lease (a dead worker) is taken
//     over; Record stores delivered, retry at T, held (muted), failed
//     (dead letter) or disabled (410); List and Retry serve the API.
//   - worker.go: Worker claims due notifications, asks the Muter
//     (mute.go), sends with the receiver's Sender under AttemptTimeout,
//     classifies the error and records the outcome; after MaxAttempts
//     (ALERT_MAX_ATTEMPTS, default 8) it dead-letters. receivers.go keeps
//     the receivers disabled by a 410; metrics.go counts outcomes.
//   - reminder.go: reminders of still-firing alerts every RepeatInterval
//     (ALERT_REPEAT_INTERVAL, default 4h, 0 = off), each its own
//     notification (ReminderID), so the log sends it once.
//   - resend.go: Alertmanager re-sends, outside the log (Alertmanager
//     merges duplicates), one replica per interval through a Leaser lease.
//   - consume.go: Pipeline, the StateChanged handler: Dispatch, then one
//     immediate attempt per notification.
//
// Senders are safe for concurrent use. docs/receivers.md shows a
// configuration example per kind, the webhook payload, and how to verify
// its signature.
package notify
