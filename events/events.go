// Package events defines the events database-service publishes: plain,
// versioned structs, their CloudEvents 1.0 JSON envelope, and the routing
// keys on the `db.health` topic exchange. It depends on the standard library
// only; the bus/ sub-package holds the RabbitMQ and watermill wiring.
package events

import (
	"encoding/json"
	"strconv"
	"time"
)

// Event types (the CloudEvents `type` attribute). The version suffix changes
// only on an incompatible change of the data payload.
const (
	TypeHealthChecked = "db.health.checked.v1"
	TypeStateChanged  = "db.health.state_changed.v1"
)

// Exchange is the durable topic exchange every event is published to.
const Exchange = "db.health"

// CloudEvents envelope constants.
const (
	SpecVersion     = "1.0"
	DataContentType = "application/json"
)

// Types lists every event type the service emits.
var Types = []string{TypeHealthChecked, TypeStateChanged}

// TargetRef names a watched database: its kind ("postgres", ...) and name.
type TargetRef struct {
	Type string `json:"type"`
	Name string `json:"name"`
}

// Subject is the CloudEvents subject of events about the target: "<type>/<name>".
func (t TargetRef) Subject() string { return t.Type + "/" + t.Name }

// HealthChecked is the data of a db.health.checked.v1 event: one probe's
// result. Slot is the start of the probing slot in Unix milliseconds; it
// orders checks of a target and fences stale results.
type HealthChecked struct {
	Target    TargetRef `json:"target"`
	State     string    `json:"state"`
	LatencyMS float64   `json:"latency_ms"`
	// Details are the probe's facts, a JSON object of kind-specific
	// fields (see the schema).
	Details   json.RawMessage `json:"details,omitempty"`
	ErrorKind string          `json:"error_kind,omitempty"`
	Error     string          `json:"error,omitempty"`
	CheckedAt time.Time       `json:"checked_at"`
	Slot      int64           `json:"slot"`
	Prober    string          `json:"prober"`
}

// ID is the event id of the check: "<type>/<name>:<slot>". Two replicas
// that somehow probe the same slot produce the same id.
func (h HealthChecked) ID() string { return h.Target.Subject() + ":" + strconv.FormatInt(h.Slot, 10) }

// StateChanged is the data of a db.health.state_changed.v1 event: a
// transition of a target's state. Seq grows by one per transition within an
// Epoch; a new Epoch starts when the transition state was lost, so event ids
// never collide. Initial is true for the first transition out of UNKNOWN.
type StateChanged struct {
	Target  TargetRef     `json:"target"`
	From    string        `json:"from"`
	To      string        `json:"to"`
	Reason  string        `json:"reason"`
	Seq     int64         `json:"seq"`
	Epoch   int64         `json:"epoch"`
	At      time.Time     `json:"at"`
	Initial bool          `json:"initial"`
	Check   HealthChecked `json:"check"`
}

// ID is the event id of the transition: "<type>/<name>:<epoch>:<seq>".
func (s StateChanged) ID() string {
	return s.Target.Subject() + ":" + strconv.FormatInt(s.Epoch, 10) + ":" + strconv.FormatInt(s.Seq, 10)
}

// RoutingKey is the routing key of an event of eventType about a target of
// kind: "db.health.checked.<kind>" or "db.health.state_changed.<kind>".
// Bind "db.health.#" for everything, "db.health.state_changed.*" for
// transitions, "db.health.*.postgres" for one kind.
func RoutingKey(eventType, kind string) string {
	switch eventType {
	case TypeHealthChecked:
		return "db.health.checked." + kind
	case TypeStateChanged:
		return "db.health.state_changed." + kind
	}
	return "db.health.unknown." + kind
}

// DetailsOrEmpty is d, or an empty JSON object when d is empty (the API
// always shows details as an object).
func DetailsOrEmpty(d json.RawMessage) json.RawMessage {
	if len(d) == 0 {
		return json.RawMessage("{}")
	}
	return d
}
