package events_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/testsupport/eventtest"
)

// edit decodes the wire form of e into a generic object, applies f and
// encodes it again.
func edit(t *testing.T, e events.Envelope, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(mustEncode(t, e), &m); err != nil {
		t.Fatal(err)
	}
	f(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func without(keys ...string) func(map[string]any) {
	return func(m map[string]any) {
		for _, k := range keys[:len(keys)-1] {
			m = m[k].(map[string]any)
		}
		delete(m, keys[len(keys)-1])
	}
}

func with(key string, v any) func(map[string]any) {
	return func(m map[string]any) { m[key] = v }
}

func withData(key string, v any) func(map[string]any) {
	return func(m map[string]any) { m["data"].(map[string]any)[key] = v }
}

func TestDecodeRejects(t *testing.T) {
	checked := eventtest.Checked(t, source, checkedDown())
	changed := eventtest.Changed(t, source, stateChangedDown())
	tests := []struct {
		name string
		body []byte
	}{
		{"empty body", nil},
		{"blank body", []byte(" \n\t")},
		{"invalid JSON", []byte(`{"specversion":`)},
		{"not an object", []byte(`["1.0"]`)},
		{"JSON null", []byte(`null`)},
		{"JSON string", []byte(`"db.health.checked.v1"`)},
		{"wrong specversion", edit(t, checked, with("specversion", "0.3"))},
		{"specversion as number", edit(t, checked, with("specversion", 1.0))},
		{"missing specversion", edit(t, checked, without("specversion"))},
		{"missing id", edit(t, checked, without("id"))},
		{"empty id", edit(t, checked, with("id", ""))},
		{"missing source", edit(t, checked, without("source"))},
		{"missing subject", edit(t, checked, without("subject"))},
		{"missing type", edit(t, checked, without("type"))},
		{"unknown type", edit(t, checked, with("type", "db.health.checked.v2"))},
		{"legacy type", edit(t, checked, with("type", "HealthChecked"))},
		{"time not a time", edit(t, checked, with("time", "yesterday"))},
		{"time offset +24:00", edit(t, checked, with("time", "2026-11-03T10:00:00+24:00"))},
		{"checked_at offset -24:00", edit(t, checked, withData("checked_at", "2026-11-03T10:00:00-24:00"))},
		{"at offset +24:00", edit(t, changed, withData("at", "2026-11-03T10:00:00+24:00"))},
		{"missing data", edit(t, checked, without("data"))},
		{"data null", edit(t, checked, with("data", nil))},
		{"data an array", edit(t, checked, with("data", []any{}))},
		{"data a string", edit(t, checked, with("data", "{}"))},
		{"checked without target", edit(t, checked, without("data", "target"))},
		{"checked without target name", edit(t, checked, without("data", "target", "name"))},
		{"checked without state", edit(t, checked, without("data", "state"))},
		{"checked with latency as string", edit(t, checked, withData("latency_ms", "1ms"))},
		{"checked with fractional slot", edit(t, checked, withData("slot", 1.5))},
		{"checked with checked_at not a time", edit(t, checked, withData("checked_at", "now"))},
		{"checked data under state_changed type", edit(t, checked, with("type", events.TypeStateChanged))},
		{"changed without target", edit(t, changed, without("data", "target"))},
		{"changed without to", edit(t, changed, without("data", "to"))},
		{"changed without seq", edit(t, changed, without("data", "seq"))},
		{"changed with seq 0", edit(t, changed, withData("seq", 0))},
		{"changed with initial as string", edit(t, changed, withData("initial", "true"))},
		{"changed data under checked type", edit(t, changed, with("type", events.TypeHealthChecked))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := events.Decode(tt.body); !errors.Is(err, events.ErrInvalid) {
				t.Fatalf("Decode = %v, want ErrInvalid", err)
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	checked := eventtest.Checked(t, source, checkedDown())
	tests := []struct {
		name string
		body []byte
	}{
		{"as encoded", mustEncode(t, checked)},
		{"with whitespace", []byte(" \n" + string(mustEncode(t, checked)) + "\n")},
		// CloudEvents optional attributes and extensions are not required.
		{"without time", edit(t, checked, without("time"))},
		{"without dataschema", edit(t, checked, without("dataschema"))},
		{"with an extension attribute", edit(t, checked, with("traceparent", "00-abc-def-01"))},
		{"with an unknown data field", edit(t, checked, withData("future_field", 1))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := events.Decode(tt.body)
			if err != nil {
				t.Fatal(err)
			}
			if e.ID != checked.ID || e.Type != checked.Type {
				t.Fatalf("Decode = %+v, want %+v", e, checked)
			}
		})
	}
}

func TestTypedAccessorsCheckType(t *testing.T) {
	checked := eventtest.Checked(t, source, checkedDown())
	changed := eventtest.Changed(t, source, stateChangedDown())
	if _, err := checked.StateChanged(); !errors.Is(err, events.ErrInvalid) {
		t.Errorf("StateChanged() of a HealthChecked = %v, want ErrInvalid", err)
	}
	if _, err := changed.HealthChecked(); !errors.Is(err, events.ErrInvalid) {
		t.Errorf("HealthChecked() of a StateChanged = %v, want ErrInvalid", err)
	}
}
