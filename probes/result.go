package probes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// State is the health of a target.
type State string

// The states a target can be in. UNKNOWN is the state before the first
// decision; probes themselves only ever report UP, DEGRADED or DOWN.
const (
	StateUnknown  State = "UNKNOWN"
	StateUp       State = "UP"
	StateDegraded State = "DEGRADED"
	StateDown     State = "DOWN"
)

// Valid reports whether s is one of the four states.
func (s State) Valid() bool {
	switch s {
	case StateUnknown, StateUp, StateDegraded, StateDown:
		return true
	}
	return false
}

// Severity orders states from best to worst (UP < DEGRADED < DOWN), UNKNOWN
// counting as the least severe.
func (s State) Severity() int {
	switch s {
	case StateUp:
		return 1
	case StateDegraded:
		return 2
	case StateDown:
		return 3
	}
	return 0
}

// Facts are the kind-specific things one probe observed. Health is the pure
// health rule over them: it must not do I/O.
type Facts interface {
	// Health judges the facts against the limits and explains a non-UP
	// verdict in reason.
	Health(l Limits) (state State, reason string)
}

// Result is one probe's outcome: the verdict plus the observed facts.
type Result struct {
	Target  Target
	State   State
	Reason  string
	Latency time.Duration
	// Details are the facts as a JSON object (nil without facts).
	Details   json.RawMessage
	ErrorKind ErrorKind
	// Error is the failure message, scrubbed of credentials.
	Error     string
	CheckedAt time.Time
}

// detailsOf encodes typed facts as the JSON object of a Result's details.
func detailsOf(f Facts) json.RawMessage {
	if f == nil {
		return nil
	}
	b, err := json.Marshal(f)
	if err != nil || len(b) == 0 || b[0] != '{' {
		b, _ = json.Marshal(map[string]string{"marshal_error": fmt.Sprint(err)})
	}
	return b
}

// DetailsMap decodes the details (numbers kept exact as json.Number); nil
// without details.
func (r Result) DetailsMap() map[string]any {
	if len(r.Details) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(r.Details))
	dec.UseNumber()
	var m map[string]any
	if err := dec.Decode(&m); err != nil {
		return nil
	}
	return m
}
