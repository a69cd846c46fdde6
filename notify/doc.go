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
// What this package does not do: remember what was sent (the notification
// log), deduplicate across replicas, retry on its own, or silence. Those
// stages sit on top of Sender and Classify. Senders are safe for
// concurrent use.
//
// docs/receivers.md shows a configuration example per kind, the webhook
// payload, and how to verify its signature.
package notify
