package projections

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/events/bus"
	"github.com/dbhealth/database-service/testsupport/eventtest"
)

// recorder is a store fake recording what the handlers wrote.
type recorder struct {
	err     error
	checks  []events.HealthChecked
	changes []events.StateChanged
	alerts  []events.StateChanged
	history []events.HealthChecked
}

func (r *recorder) PutCheck(_ context.Context, c events.HealthChecked) error {
	r.checks = append(r.checks, c)
	return r.err
}

func (r *recorder) PutTransition(_ context.Context, s events.StateChanged) error {
	r.changes = append(r.changes, s)
	return r.err
}

func (r *recorder) AppendCheck(_ context.Context, c events.HealthChecked) error {
	r.history = append(r.history, c)
	return r.err
}

func (r *recorder) RecordTransition(_ context.Context, s events.StateChanged) error {
	r.alerts = append(r.alerts, s)
	return r.err
}

type group interface {
	Name() string
	Bindings() []string
	Handle(context.Context, events.Envelope) error
}

func groups(t *testing.T, r *recorder) (*Status, *History, *Alerts) {
	t.Helper()
	s, err := NewStatus(r)
	if err != nil {
		t.Fatal(err)
	}
	h, err := NewHistory(r)
	if err != nil {
		t.Fatal(err)
	}
	a, err := NewAlerts(r)
	if err != nil {
		t.Fatal(err)
	}
	return s, h, a
}

var (
	target = events.TargetRef{Type: "postgres", Name: "main"}
	check  = events.HealthChecked{Target: target, State: "UP", CheckedAt: time.UnixMilli(1000), Slot: 1000, Prober: "r1"}
	change = events.StateChanged{Target: target, From: "UNKNOWN", To: "UP", Seq: 1, Epoch: 7, At: time.UnixMilli(1000), Initial: true, Check: check}
)

func envelopes(t *testing.T) (checked, changed events.Envelope) {
	t.Helper()
	return eventtest.Checked(t, "test", check), eventtest.Changed(t, "test", change)
}

func TestDispatch(t *testing.T) {
	r := &recorder{}
	s, h, a := groups(t, r)
	checked, changed := envelopes(t)
	for _, g := range []group{s, h, a} {
		for _, env := range []events.Envelope{checked, changed} {
			if err := g.Handle(context.Background(), env); err != nil {
				t.Fatalf("%s.Handle(%s): %v", g.Name(), env.Type, err)
			}
		}
	}
	// Status takes both, history only checks, alerts only transitions.
	if len(r.checks) != 1 || len(r.changes) != 1 || len(r.history) != 1 || len(r.alerts) != 1 {
		t.Fatalf("writes: checks %d changes %d history %d alerts %d, want 1 each",
			len(r.checks), len(r.changes), len(r.history), len(r.alerts))
	}
	if r.checks[0].ID() != check.ID() || r.alerts[0].ID() != change.ID() {
		t.Fatalf("decoded events differ: %+v %+v", r.checks[0], r.alerts[0])
	}
}

func TestHandleRejects(t *testing.T) {
	s, h, a := groups(t, &recorder{})
	checked, changed := envelopes(t)
	unknown := checked
	unknown.Type = "db.health.exploded.v1"
	badData := changed
	badData.Data = json.RawMessage(`{"target":{"type":"postgres","name":"main"},"to":"UP","seq":0}`)
	noSlot := check
	noSlot.Slot = 0
	noSlotEnv, err := events.NewHealthChecked("test", noSlot)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		g    group
		env  events.Envelope
	}{
		{"unknown type status", s, unknown},
		{"unknown type history", h, unknown},
		{"unknown type alerts", a, unknown},
		{"seq 0", a, badData},
		{"seq 0 status", s, badData},
		{"slot 0", h, noSlotEnv},
		{"slot 0 status", s, noSlotEnv},
	} {
		t.Run(c.name, func(t *testing.T) {
			if err := c.g.Handle(context.Background(), c.env); !errors.Is(err, events.ErrInvalid) {
				t.Fatalf("err = %v, want events.ErrInvalid (poison)", err)
			}
		})
	}
}

func TestStoreErrorsAreRetryable(t *testing.T) {
	boom := errors.New("store down")
	s, h, a := groups(t, &recorder{err: boom})
	checked, changed := envelopes(t)
	for _, c := range []struct {
		g   group
		env events.Envelope
	}{{s, checked}, {s, changed}, {h, checked}, {a, changed}} {
		err := c.g.Handle(context.Background(), c.env)
		if !errors.Is(err, boom) || errors.Is(err, events.ErrInvalid) {
			t.Fatalf("%s: err = %v, want the store error, not poison", c.g.Name(), err)
		}
	}
}

func TestNilStore(t *testing.T) {
	if _, err := NewStatus(nil); err == nil {
		t.Error("NewStatus(nil) succeeded")
	}
	if _, err := NewHistory(nil); err == nil {
		t.Error("NewHistory(nil) succeeded")
	}
	if _, err := NewAlerts(nil); err == nil {
		t.Error("NewAlerts(nil) succeeded")
	}
}

func TestBindings(t *testing.T) {
	s, h, a := groups(t, &recorder{})
	for _, c := range []struct {
		g              group
		checked, state bool
	}{{s, false, true}, {h, true, false}, {a, false, true}} {
		for _, kind := range []string{"postgres", "elasticsearch", "milvus", "redis", "nacos", "rabbitmq"} {
			for typ, want := range map[string]bool{events.TypeHealthChecked: c.checked, events.TypeStateChanged: c.state} {
				key := events.RoutingKey(typ, kind)
				got := false
				for _, b := range c.g.Bindings() {
					got = got || bus.Match(b, key)
				}
				if got != want {
					t.Errorf("%s bindings %v match %s = %v, want %v", c.g.Name(), c.g.Bindings(), key, got, want)
				}
			}
		}
	}
	if s.Name() == h.Name() || h.Name() == a.Name() || s.Name() == a.Name() {
		t.Error("group names must differ (one queue each)")
	}
}

func TestSeverity(t *testing.T) {
	for state, want := range map[string]string{"DOWN": "critical", "DEGRADED": "warning", "UP": "", "UNKNOWN": "", "": ""} {
		if got := Severity(state); got != want {
			t.Errorf("Severity(%q) = %q, want %q", state, got, want)
		}
	}
}
