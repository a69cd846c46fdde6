package events

import (
	"bytes"
	"encoding/json"
	"fmt"
)

// checkedWire is a HealthChecked envelope decoded with its data in one
// pass: the envelope's attributes, and its data as HealthChecked (the
// shallower Data field shadows the envelope's raw one).
type checkedWire struct {
	Envelope
	Data HealthChecked `json:"data"`
}

// DecodeChecked parses the wire form of a db.health.checked.v1 event and
// its data in one pass (the hot path of the check projection), with the
// checks of Decode and Envelope.HealthChecked. Any other event, or a
// malformed one, is an error wrapping ErrInvalid.
func DecodeChecked(b []byte) (HealthChecked, error) {
	var w checkedWire
	if len(bytes.TrimSpace(b)) == 0 {
		return HealthChecked{}, fmt.Errorf("%w: empty body", ErrInvalid)
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return HealthChecked{}, fmt.Errorf("%w: %v", ErrInvalid, err)
	}
	h := w.Data
	switch {
	case w.SpecVersion != SpecVersion:
		return h, fmt.Errorf("%w: specversion %q", ErrInvalid, w.SpecVersion)
	case w.ID == "" || w.Source == "" || w.Subject == "":
		return h, fmt.Errorf("%w: id, source and subject are required", ErrInvalid)
	case w.Type != TypeHealthChecked:
		return h, fmt.Errorf("%w: type %q is not %s", ErrInvalid, w.Type, TypeHealthChecked)
	case h.Target.Type == "" || h.Target.Name == "" || h.State == "":
		return h, fmt.Errorf("%w: data: target and state are required", ErrInvalid)
	}
	if len(h.Details) > 0 && h.Details[0] != '{' {
		return h, fmt.Errorf("%w: data.details must be an object", ErrInvalid)
	}
	if err := checkTime("time", w.Time); err != nil {
		return h, err
	}
	return h, checkTime("data.checked_at", h.CheckedAt)
}
