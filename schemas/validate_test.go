package schemas_test

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/dbhealth/database-service/schemas"
)

const checkedDown = `{
  "specversion": "1.0",
  "id": "postgres/orders:1793700000000",
  "source": "database-service/replica-1",
  "type": "db.health.checked.v1",
  "subject": "postgres/orders",
  "time": "2026-11-03T10:00:00.012345678Z",
  "datacontenttype": "application/json",
  "dataschema": "urn:database-service:schema:db.health.checked.v1",
  "data": {
    "target": {"type": "postgres", "name": "orders"},
    "state": "DOWN",
    "latency_ms": 0.4,
    "details": {"version": "15.4", "nested": {"any": ["thing", 1, true, null]}},
    "error_kind": "refused",
    "error": "dial tcp 127.0.0.1:5432: connect: connection refused",
    "checked_at": "2026-11-03T10:00:00.012345678Z",
    "slot": 1793700000000,
    "prober": "replica-1"
  }
}`

const stateChangedDown = `{
  "specversion": "1.0",
  "id": "postgres/orders:1:4",
  "source": "database-service/replica-2",
  "type": "db.health.state_changed.v1",
  "subject": "postgres/orders",
  "time": "2026-11-03T10:00:02.015Z",
  "datacontenttype": "application/json",
  "dataschema": "urn:database-service:schema:db.health.state_changed.v1",
  "data": {
    "target": {"type": "postgres", "name": "orders"},
    "from": "UP",
    "to": "DOWN",
    "reason": "3 failed checks in a row",
    "seq": 4,
    "epoch": 1,
    "at": "2026-11-03T10:00:02.015Z",
    "initial": false,
    "check": {
      "target": {"type": "postgres", "name": "orders"},
      "state": "DOWN",
      "latency_ms": 0.5,
      "error_kind": "refused",
      "error": "dial tcp 127.0.0.1:5432: connect: connection refused",
      "checked_at": "2026-11-03T10:00:02.015Z",
      "slot": 1793700002000,
      "prober": "replica-2"
    }
  }
}`

// mutate decodes doc, applies f to it and encodes it again.
func mutate(t *testing.T, doc string, f func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(doc), &m); err != nil {
		t.Fatal(err)
	}
	if f != nil {
		f(m)
	}
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// obj walks m along the path p of object keys.
func obj(m map[string]any, p ...string) map[string]any {
	for _, k := range p {
		m = m[k].(map[string]any)
	}
	return m
}

// set returns a mutation that sets the value at path p.
func set(p []string, v any) func(map[string]any) {
	return func(m map[string]any) { obj(m, p[:len(p)-1]...)[p[len(p)-1]] = v }
}

// del returns a mutation that deletes the value at path p.
func del(p ...string) func(map[string]any) {
	return func(m map[string]any) { delete(obj(m, p[:len(p)-1]...), p[len(p)-1]) }
}

// keys is a path of object keys, for set.
func keys(k ...string) []string { return k }

func TestValidateEventAccepts(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		f    func(map[string]any)
	}{
		{"checked down", checkedDown, nil},
		{"checked up without error", checkedDown, func(m map[string]any) {
			set(keys("data", "state"), "UP")(m)
			del("data", "error")(m)
			del("data", "error_kind")(m)
		}},
		{"checked without details", checkedDown, del("data", "details")},
		{"checked, time with offset", checkedDown, set(keys("data", "checked_at"), "2026-11-03T11:00:00.5+01:00")},
		{"checked, error_kind without message", checkedDown, del("data", "error")},
		{"checked, slot 0", checkedDown, func(m map[string]any) {
			set(keys("data", "slot"), 0)(m)
			set(keys("id"), "postgres/orders:0")(m)
		}},
		{"checked, name with colon and slash", checkedDown, func(m map[string]any) {
			set(keys("data", "target", "name"), "eu/orders:primary")(m)
			set(keys("id"), "postgres/eu/orders:primary:1793700000000")(m)
			set(keys("subject"), "postgres/eu/orders:primary")(m)
		}},
		{"checked, every kind", checkedDown, set(keys("data", "target", "type"), "rabbitmq")},
		{"state_changed down", stateChangedDown, nil},
		{"state_changed initial", stateChangedDown, func(m map[string]any) {
			set(keys("data", "from"), "UNKNOWN")(m)
			set(keys("data", "initial"), true)(m)
		}},
		{"state_changed degraded to up", stateChangedDown, func(m map[string]any) {
			set(keys("data", "from"), "DEGRADED")(m)
			set(keys("data", "to"), "UP")(m)
			set(keys("data", "check", "state"), "UP")(m)
			set(keys("data", "reason"), "")(m)
		}},
		{"state_changed epoch 0", stateChangedDown, set(keys("data", "epoch"), 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := schemas.ValidateEvent(mutate(t, tt.doc, tt.f)); err != nil {
				t.Fatal(err)
			}
		})
	}
}

func TestValidateEventRejects(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		f    func(map[string]any)
	}{
		{"state MAYBE", checkedDown, set(keys("data", "state"), "MAYBE")},
		{"state UNKNOWN from a probe", checkedDown, set(keys("data", "state"), "UNKNOWN")},
		{"unknown target type", checkedDown, set(keys("data", "target", "type"), "mysql")},
		{"empty target name", checkedDown, set(keys("data", "target", "name"), "")},
		{"extra target field", checkedDown, set(keys("data", "target", "host"), "db1")},
		{"unknown error kind", checkedDown, set(keys("data", "error_kind"), "bogus")},
		{"error without kind", checkedDown, del("data", "error_kind")},
		{"negative latency", checkedDown, set(keys("data", "latency_ms"), -1)},
		{"latency as string", checkedDown, set(keys("data", "latency_ms"), "1ms")},
		{"fractional slot", checkedDown, set(keys("data", "slot"), 1.5)},
		{"negative slot", checkedDown, set(keys("data", "slot"), -1)},
		{"missing prober", checkedDown, del("data", "prober")},
		{"empty prober", checkedDown, set(keys("data", "prober"), "")},
		{"missing checked_at", checkedDown, del("data", "checked_at")},
		{"checked_at not a date-time", checkedDown, set(keys("data", "checked_at"), "yesterday")},
		{"details not an object", checkedDown, set(keys("data", "details"), []any{"x"})},
		{"extra data field", checkedDown, set(keys("data", "reason"), "x")},
		{"missing data", checkedDown, del("data")},
		{"data null", checkedDown, set(keys("data"), nil)},
		{"specversion 0.3", checkedDown, set(keys("specversion"), "0.3")},
		{"missing specversion", checkedDown, del("specversion")},
		{"missing id", checkedDown, del("id")},
		{"id without slot", checkedDown, set(keys("id"), "postgres/orders")},
		{"missing source", checkedDown, del("source")},
		{"empty source", checkedDown, set(keys("source"), "")},
		{"source not a URI reference", checkedDown, set(keys("source"), "replica%zz")},
		{"subject without slash", checkedDown, set(keys("subject"), "orders")},
		{"time not a date-time", checkedDown, set(keys("time"), "2026-11-03 10:00:00")},
		{"other content type", checkedDown, set(keys("datacontenttype"), "text/plain")},
		{"other dataschema", checkedDown, set(keys("dataschema"), "urn:database-service:schema:db.health.state_changed.v1")},
		{"extension attribute", checkedDown, set(keys("traceparent"), "00-x")},
		{"checked data under state_changed type", checkedDown, func(m map[string]any) {
			set(keys("type"), "db.health.state_changed.v1")(m)
			set(keys("dataschema"), "urn:database-service:schema:db.health.state_changed.v1")(m)
		}},

		{"to MAYBE", stateChangedDown, set(keys("data", "to"), "MAYBE")},
		{"to UNKNOWN", stateChangedDown, set(keys("data", "to"), "UNKNOWN")},
		{"from MAYBE", stateChangedDown, set(keys("data", "from"), "MAYBE")},
		{"from equals to", stateChangedDown, set(keys("data", "from"), "DOWN")},
		{"initial from UP", stateChangedDown, set(keys("data", "initial"), true)},
		{"not initial from UNKNOWN", stateChangedDown, set(keys("data", "from"), "UNKNOWN")},
		{"check state is not to", stateChangedDown, set(keys("data", "check", "state"), "UP")},
		{"check with bad state", stateChangedDown, set(keys("data", "check", "state"), "MAYBE")},
		{"check without prober", stateChangedDown, del("data", "check", "prober")},
		{"seq 0", stateChangedDown, set(keys("data", "seq"), 0)},
		{"negative epoch", stateChangedDown, set(keys("data", "epoch"), -1)},
		{"missing reason", stateChangedDown, del("data", "reason")},
		{"missing initial", stateChangedDown, del("data", "initial")},
		{"initial as string", stateChangedDown, set(keys("data", "initial"), "false")},
		{"missing check", stateChangedDown, del("data", "check")},
		{"id without epoch", stateChangedDown, set(keys("id"), "postgres/orders:4")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := schemas.ValidateEvent(mutate(t, tt.doc, tt.f))
			if !errors.Is(err, schemas.ErrInvalid) {
				t.Fatalf("ValidateEvent = %v, want ErrInvalid", err)
			}
			if errors.Is(err, schemas.ErrUnknownType) {
				t.Fatalf("ValidateEvent = %v, want no ErrUnknownType", err)
			}
			var verr *jsonschema.ValidationError
			if !errors.As(err, &verr) {
				t.Fatalf("ValidateEvent = %v, want a *jsonschema.ValidationError inside", err)
			}
		})
	}
}

func TestValidateEventRejectsNonEvents(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		unknown bool
	}{
		{"empty", "", false},
		{"not JSON", "{", false},
		{"trailing data", checkedDown + "{}", false},
		{"array", "[]", false},
		{"null", "null", false},
		{"no type", `{"specversion":"1.0"}`, false},
		{"type not a string", `{"type":1}`, false},
		{"unknown type", `{"type":"db.health.checked.v2"}`, true},
		{"empty type", `{"type":""}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := schemas.ValidateEvent([]byte(tt.body))
			if !errors.Is(err, schemas.ErrInvalid) {
				t.Fatalf("ValidateEvent = %v, want ErrInvalid", err)
			}
			if errors.Is(err, schemas.ErrUnknownType) != tt.unknown {
				t.Fatalf("ValidateEvent = %v, want ErrUnknownType: %v", err, tt.unknown)
			}
		})
	}
}
