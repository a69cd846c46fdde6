package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"time"

	"github.com/dbhealth/database-service/events"
)

// State is what happened to the alert a notification is about.
type State string

// The two states of a notification.
const (
	StateFiring   State = "firing"
	StateResolved State = "resolved"
)

// Valid reports whether s is firing or resolved.
func (s State) Valid() bool { return s == StateFiring || s == StateResolved }

// Notification is one message to one receiver about one alert. Its JSON
// form is the body of the webhook receiver.
type Notification struct {
	// ID identifies the notification; it is the same on every attempt to
	// deliver it (the webhook-id header, the e-mail Message-ID). NewID
	// derives it from the receiver, the alert and the state.
	ID string `json:"id"`
	// Receiver is the name of the receiver it is for.
	Receiver string `json:"receiver"`
	// AlertID is the id of the alert in the alerts read model: the id of
	// the transition that opened the incident ("<type>/<name>:<epoch>:<seq>").
	AlertID string `json:"alert_id"`
	// State is firing or resolved.
	State State `json:"state"`
	// Severity is the alert's severity (critical while DOWN, warning while
	// DEGRADED); a resolved notification keeps the last one.
	Severity events.Severity `json:"severity"`
	// Target is the watched database.
	Target events.TargetRef `json:"target"`
	// Reason is the reason of the latest transition.
	Reason string `json:"reason"`
	// StartedAt is when the incident started.
	StartedAt time.Time `json:"started_at"`
	// ResolvedAt is when the incident was resolved; nil while firing.
	ResolvedAt *time.Time `json:"resolved_at,omitempty"`
	// EventID is the id of the StateChanged event that caused the
	// notification.
	EventID string `json:"event_id"`
	// Link is the URL of the alert in the service's API.
	Link string `json:"link,omitempty"`
}

// NewID is the notification id of the notification of receiver about
// alertID in state: "ntf_" and 32 hex digits of a SHA-256 of the three.
// Every replica computes the same id for the same notification.
func NewID(receiver, alertID string, state State) string {
	sum := sha256.Sum256([]byte(receiver + "\x00" + alertID + "\x00" + string(state)))
	return "ntf_" + hex.EncodeToString(sum[:16])
}

// Condition is the word for the target's state the notification reports:
// "DOWN" (critical) or "DEGRADED" (warning) while firing, "UP" once
// resolved.
func (n Notification) Condition() string {
	if n.State == StateResolved {
		return string(events.StateUp)
	}
	if n.Severity == events.SeverityWarning {
		return string(events.StateDegraded)
	}
	return string(events.StateDown)
}
