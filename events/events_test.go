package events_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/schemas"
	"github.com/dbhealth/database-service/testsupport/eventtest"
)

// Kinds, states and error kinds the service can put in an event (mirrors
// of probes.Kinds, probes.State and probes.ErrorKind: events stays a leaf).
var (
	kinds      = []string{"postgres", "elasticsearch", "milvus", "redis", "nacos", "rabbitmq"}
	verdicts   = []string{"UP", "DEGRADED", "DOWN"}
	errorKinds = []string{"timeout", "refused", "dns", "auth", "tls", "protocol", "unavailable", "config", "unknown"}
)

const source = "database-service/replica-1"

// t0 is the fixed start of the probing slot of the fixtures.
var t0 = time.Date(2026, 11, 3, 10, 0, 0, 0, time.UTC)

func checkedUp() events.HealthChecked {
	return events.HealthChecked{
		Target:    events.TargetRef{Type: "postgres", Name: "orders"},
		State:     "UP",
		LatencyMS: 1.25,
		Details: rawJSON(map[string]any{
			"server_version":  "15.4",
			"connections":     12.0,
			"max_connections": 100.0,
			"in_recovery":     false,
		}),
		CheckedAt: t0.Add(12345678 * time.Nanosecond),
		Slot:      t0.UnixMilli(),
		Prober:    "replica-1",
	}
}

func checkedDown() events.HealthChecked {
	return events.HealthChecked{
		Target:    events.TargetRef{Type: "redis", Name: "cache"},
		State:     "DOWN",
		LatencyMS: 0.31,
		ErrorKind: "refused",
		Error:     "dial tcp 127.0.0.1:6379: connect: connection refused",
		CheckedAt: t0.Add(2*time.Second + 4*time.Millisecond),
		Slot:      t0.Add(2 * time.Second).UnixMilli(),
		Prober:    "replica-2",
	}
}

func checkedDegraded() events.HealthChecked {
	return events.HealthChecked{
		Target:    events.TargetRef{Type: "elasticsearch", Name: "search-eu/main"},
		State:     "DEGRADED",
		LatencyMS: 42,
		Details: rawJSON(map[string]any{
			"cluster_status": "yellow",
			"nodes":          []any{"es-1", "es-2"},
			"shards":         map[string]any{"active": 10.0, "unassigned": 2.0},
			"note":           "<html> & \"quotes\"",
		}),
		CheckedAt: t0.Add(time.Second),
		Slot:      t0.UnixMilli(),
		Prober:    "replica-3",
	}
}

func stateChangedInitial() events.StateChanged {
	return events.StateChanged{
		Target:  events.TargetRef{Type: "postgres", Name: "orders"},
		From:    "UNKNOWN",
		To:      "UP",
		Reason:  "",
		Seq:     1,
		Epoch:   1,
		At:      t0.Add(13 * time.Millisecond),
		Initial: true,
		Check:   checkedUp(),
	}
}

func stateChangedDown() events.StateChanged {
	return events.StateChanged{
		Target:  events.TargetRef{Type: "redis", Name: "cache"},
		From:    "UP",
		To:      "DOWN",
		Reason:  "3 failed checks in a row: refused",
		Seq:     4,
		Epoch:   7,
		At:      t0.Add(2*time.Second + 5*time.Millisecond),
		Initial: false,
		Check:   checkedDown(),
	}
}

// fixture is one event as the service emits it, with a golden file name.
type fixture struct {
	name string
	env  events.Envelope
	data any
}

func fixtures(t testing.TB) []fixture {
	t.Helper()
	var out []fixture
	for name, h := range map[string]events.HealthChecked{
		"checked_up":       checkedUp(),
		"checked_down":     checkedDown(),
		"checked_degraded": checkedDegraded(),
	} {
		out = append(out, fixture{name, eventtest.Checked(t, source, h), h})
	}
	for name, s := range map[string]events.StateChanged{
		"state_changed_initial": stateChangedInitial(),
		"state_changed_down":    stateChangedDown(),
	} {
		out = append(out, fixture{name, eventtest.Changed(t, source, s), s})
	}
	return out
}

func mustEncode(t testing.TB, e events.Envelope) []byte {
	t.Helper()
	b, err := events.Encode(e)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestEmittedEventsMatchSchema validates against schemas/ every shape of
// event the code can emit: the fixtures, every kind in every verdict,
// every error kind, every transition (initial or not), and the zero values
// the code can leave (no details, empty details, empty reason, slot 0).
func TestEmittedEventsMatchSchema(t *testing.T) {
	envs := map[string]events.Envelope{}
	for _, f := range fixtures(t) {
		envs[f.name] = f.env
	}
	for _, k := range kinds {
		for _, v := range verdicts {
			h := checkedUp()
			h.Target = events.TargetRef{Type: k, Name: "db-" + k}
			h.State = v
			envs["checked "+k+" "+v] = eventtest.Checked(t, source, h)
		}
	}
	for _, ek := range errorKinds {
		h := checkedDown()
		h.ErrorKind = ek
		envs["checked error "+ek] = eventtest.Checked(t, source, h)
		h.Error = ""
		envs["checked error "+ek+" without message"] = eventtest.Checked(t, source, h)
	}
	zero := checkedUp()
	zero.Details, zero.LatencyMS, zero.Slot = nil, 0, 0
	envs["checked zero values"] = eventtest.Checked(t, source, zero)
	zero.Details = rawJSON(map[string]any{})
	envs["checked empty details"] = eventtest.Checked(t, source, zero)
	local := checkedUp()
	local.CheckedAt = local.CheckedAt.In(time.FixedZone("CET", 3600))
	envs["checked local time"] = eventtest.Checked(t, source, local)

	for _, from := range append([]string{"UNKNOWN"}, verdicts...) {
		for _, to := range verdicts {
			if from == to {
				continue
			}
			s := stateChangedDown()
			s.From, s.To, s.Initial = from, to, from == "UNKNOWN"
			s.Check.State = to
			if to != "DOWN" {
				s.Check.Error, s.Check.ErrorKind = "", ""
			}
			envs["state_changed "+from+" to "+to] = eventtest.Changed(t, source, s)
		}
	}
	s := stateChangedInitial()
	s.Epoch, s.Reason = 0, ""
	envs["state_changed epoch 0"] = eventtest.Changed(t, source, s)

	for name, e := range envs {
		if err := schemas.ValidateEvent(mustEncode(t, e)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestSchemaRejectsWhatTheCodeMustNotEmit guards the test above against a
// schema that accepts anything.
func TestSchemaRejectsWhatTheCodeMustNotEmit(t *testing.T) {
	bad := map[string]events.Envelope{}
	h := checkedUp()
	h.State = "MAYBE"
	bad["state MAYBE"] = eventtest.Checked(t, source, h)
	h = checkedUp()
	h.Target.Type = "mysql"
	bad["kind mysql"] = eventtest.Checked(t, source, h)
	h = checkedUp()
	h.Prober = ""
	bad["no prober"] = eventtest.Checked(t, source, h)
	s := stateChangedDown()
	s.Initial = true
	bad["initial from UP"] = eventtest.Changed(t, source, s)
	s = stateChangedDown()
	s.Seq = 0
	bad["seq 0"] = eventtest.Changed(t, source, s)
	for name, e := range bad {
		if err := schemas.ValidateEvent(mustEncode(t, e)); err == nil {
			t.Errorf("%s: the schema accepted it", name)
		}
	}
}

func TestEnvelopeAttributes(t *testing.T) {
	for _, f := range fixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			e := f.env
			var id string
			var target events.TargetRef
			var at time.Time
			switch d := f.data.(type) {
			case events.HealthChecked:
				id, target, at = d.ID(), d.Target, d.CheckedAt
			case events.StateChanged:
				id, target, at = d.ID(), d.Target, d.At
			}
			if e.ID != id || e.Subject != target.Subject() || e.Source != source ||
				e.SpecVersion != events.SpecVersion || e.DataContentType != events.DataContentType ||
				e.DataSchema != events.SchemaURI(e.Type) || !e.Time.Equal(at) || e.Time.Location() != time.UTC {
				t.Errorf("envelope %+v does not match its data %+v", e, f.data)
			}
			if got, want := e.RoutingKey(), events.RoutingKey(e.Type, target.Type); got != want {
				t.Errorf("RoutingKey() = %q, want %q", got, want)
			}
		})
	}
}

func TestIDs(t *testing.T) {
	if got, want := checkedUp().ID(), "postgres/orders:1793700000000"; got != want {
		t.Errorf("HealthChecked.ID() = %q, want %q", got, want)
	}
	if got, want := stateChangedDown().ID(), "redis/cache:7:4"; got != want {
		t.Errorf("StateChanged.ID() = %q, want %q", got, want)
	}
	if got, want := checkedDegraded().Target.Subject(), "elasticsearch/search-eu/main"; got != want {
		t.Errorf("Subject() = %q, want %q", got, want)
	}
}

func TestRoutingKey(t *testing.T) {
	tests := []struct {
		eventType, kind, want string
	}{
		{events.TypeHealthChecked, "postgres", "db.health.checked.postgres"},
		{events.TypeHealthChecked, "elasticsearch", "db.health.checked.elasticsearch"},
		{events.TypeHealthChecked, "milvus", "db.health.checked.milvus"},
		{events.TypeHealthChecked, "redis", "db.health.checked.redis"},
		{events.TypeHealthChecked, "nacos", "db.health.checked.nacos"},
		{events.TypeHealthChecked, "rabbitmq", "db.health.checked.rabbitmq"},
		{events.TypeStateChanged, "postgres", "db.health.state_changed.postgres"},
		{events.TypeStateChanged, "elasticsearch", "db.health.state_changed.elasticsearch"},
		{events.TypeStateChanged, "milvus", "db.health.state_changed.milvus"},
		{events.TypeStateChanged, "redis", "db.health.state_changed.redis"},
		{events.TypeStateChanged, "nacos", "db.health.state_changed.nacos"},
		{events.TypeStateChanged, "rabbitmq", "db.health.state_changed.rabbitmq"},
		{"db.health.checked.v2", "redis", "db.health.unknown.redis"},
		{"", "redis", "db.health.unknown.redis"},
	}
	for _, tt := range tests {
		if got := events.RoutingKey(tt.eventType, tt.kind); got != tt.want {
			t.Errorf("RoutingKey(%q, %q) = %q, want %q", tt.eventType, tt.kind, got, tt.want)
		}
	}
}

func TestEnvelopeKind(t *testing.T) {
	tests := []struct{ subject, want string }{
		{"postgres/orders", "postgres"},
		{"elasticsearch/eu/main", "elasticsearch"},
		{"redis", "redis"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := (events.Envelope{Subject: tt.subject}).Kind(); got != tt.want {
			t.Errorf("Kind() of subject %q = %q, want %q", tt.subject, got, tt.want)
		}
	}
}

// rawJSON encodes v as JSON details.
func rawJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
