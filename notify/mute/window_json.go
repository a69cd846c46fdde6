package mute

import (
	"encoding/json"
	"fmt"
	"time"
)

// windowJSON is Window on the wire: Duration as a string.
type windowJSON struct {
	windowFields
	Duration string `json:"duration,omitempty"`
}

// windowFields is Window without its methods.
type windowFields Window

// MarshalJSON writes Duration as a Go duration string ("1h30m").
func (w Window) MarshalJSON() ([]byte, error) {
	v := windowJSON{windowFields: windowFields(w)}
	if w.Duration != 0 {
		v.Duration = w.Duration.String()
	}
	return json.Marshal(v)
}

// UnmarshalJSON reads Duration from a Go duration string; a bad one is a
// *FieldError "duration".
func (w *Window) UnmarshalJSON(b []byte) error {
	var v windowJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	return w.fromWire(v.windowFields, v.Duration)
}

// fromWire sets w from its decoded fields and its duration string.
func (w *Window) fromWire(f windowFields, duration string) error {
	d, err := parseDuration(duration)
	if err != nil {
		return err
	}
	*w = Window(f)
	w.Duration = d
	return nil
}

// parseDuration parses a Go duration string; "" is zero.
func parseDuration(s string) (time.Duration, error) {
	if s == "" {
		return 0, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fieldErr("duration", fmt.Sprintf("bad duration %q (want e.g. 1h30m)", s))
	}
	return d, nil
}
