package probes

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dbhealth/database-service/events"
)

// State is the health of a target (the events vocabulary).
type State = events.State

// The states a target can be in (see events.State).
const (
	StateUnknown  = events.StateUnknown
	StateUp       = events.StateUp
	StateDegraded = events.StateDegraded
	StateDown     = events.StateDown
)

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
