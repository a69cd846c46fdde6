// Package storetest is the contract every read-model store meets (the
// Redis store of shared mode and the embedded store of standalone mode):
// one suite of tests, run by each store's own tests through Run with a
// Backend that opens it.
package storetest

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// Store is what the contract covers: the projections' write side and the
// reads the API serves.
type Store interface {
	projections.StatusStore
	projections.HistoryStore
	projections.AlertStore
	projections.CheckStore
	Statuses(ctx context.Context) ([]projections.TargetStatus, error)
	StatusesOf(ctx context.Context, kind string) ([]projections.TargetStatus, error)
	History(ctx context.Context, q projections.HistoryQuery) (projections.HistoryPage, error)
	Alerts(ctx context.Context, q projections.AlertQuery) ([]projections.Alert, error)
	Firing(ctx context.Context) (int, error)
	Metrics(ctx context.Context, kind, name string) (projections.TargetMetrics, error)
	AllMetrics(ctx context.Context) ([]projections.TargetMetrics, error)
	Targets(ctx context.Context) ([]events.TargetRef, error)
	Forget(ctx context.Context, kind, name string) error
}

// Options are the store settings a contract test sets; zero values mean
// the store's defaults.
type Options struct {
	HistoryMaxEntries int64
	HistoryRetention  time.Duration
	AlertRetention    time.Duration
	// Now is the store's clock.
	Now func() time.Time
}

// Backend opens one kind of store for the contract and looks inside it
// where the contract checks what is kept.
type Backend struct {
	// Name names the subtests.
	Name string
	// Open returns a fresh, empty store; it cleans up through t.
	Open func(t testing.TB, opts Options) Store
	// Settle makes the store enforce its retention now (nil: it does so
	// on every write).
	Settle func(s Store)
	// HistoryLen is the number of history entries stored for a target,
	// trimmed ones excluded.
	HistoryLen func(s Store, kind, name string) int
	// TrimSlack is how far above a bound trimming may leave the history
	// (Redis trims whole stream nodes).
	TrimSlack int
	// RollupHours lists the hours (Unix ms) of a target's stored rollups.
	RollupHours func(s Store, kind, name string) []int64
	// AlertKept reports whether anything of alert id (of target
	// kind/name) is still stored after it was pruned.
	AlertKept func(s Store, id, kind, name string) bool
	// LateInHistory is true when a check older than the newest one of its
	// target still enters the history (a B-tree can; a Redis stream only
	// grows at its top).
	LateInHistory bool
}

// Run runs the whole contract against b.
func Run(t *testing.T, b Backend) {
	for _, c := range []struct {
		name string
		f    func(*testing.T, Backend)
	}{
		{"StatusGuards", withFixture(Options{}, testStatusGuards)},
		{"StatusListing", withFixture(Options{}, testStatusListing)},
		{"Forget", withFixture(Options{}, testForget)},
		{"HistoryQuery", withFixture(Options{}, testHistoryQuery)},
		{"HistoryDedupe", withFixture(Options{}, testHistoryDedupe)},
		{"HistoryBounds", testHistoryBounds},
		{"MetricsRollups", withFixture(Options{}, testMetricsRollups)},
		{"AlertLifecycle", withFixture(Options{}, testAlertLifecycle)},
		{"AlertInitial", withFixture(Options{}, testAlertInitial)},
		{"AlertReordered", testAlertReordered},
		{"AlertNewEpoch", testAlertNewEpoch},
		{"AlertRetention", withFixture(Options{AlertRetention: time.Hour}, testAlertRetention)},
		{"AlertQuery", withFixture(Options{}, testAlertQuery)},
		{"OddNames", withFixture(Options{}, testOddNames)},
		{"RedeliveryAndReordering", testRedeliveryAndReordering},
		{"AlertsFollowIncidents", testAlertsFollowIncidents},
		{"ProjectChecks", testProjectChecks},
	} {
		t.Run(c.name, func(t *testing.T) { c.f(t, b) })
	}
}

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is one store under test with its handler groups.
type fixture struct {
	be      Backend
	clock   *clock
	store   Store
	status  *projections.Status
	history *projections.History
	alerts  *projections.Alerts
}

func newFixture(t testing.TB, be Backend, opts Options) *fixture {
	t.Helper()
	f := &fixture{be: be, clock: &clock{t: time.Now().UTC()}}
	opts.Now = f.clock.Now
	f.store = be.Open(t, opts)
	var err error
	if f.status, err = projections.NewStatus(f.store); err != nil {
		t.Fatal(err)
	}
	if f.history, err = projections.NewHistory(f.store); err != nil {
		t.Fatal(err)
	}
	if f.alerts, err = projections.NewAlerts(f.store); err != nil {
		t.Fatal(err)
	}
	return f
}

// withFixture is the contract test f, run with one fixture opened with
// opts.
func withFixture(opts Options, f func(t *testing.T, fx *fixture)) func(*testing.T, Backend) {
	return func(t *testing.T, be Backend) { contract(t, be, opts, f) }
}

// contract runs f with one fixture.
func contract(t *testing.T, be Backend, opts Options, f func(t *testing.T, fx *fixture)) {
	f(t, newFixture(t, be, opts))
}

// contract2 runs f with two fixtures to compare read models.
func contract2(t *testing.T, be Backend, opts Options, f func(t *testing.T, a, b *fixture)) {
	f(t, newFixture(t, be, opts), newFixture(t, be, opts))
}

// settle lets the store enforce its retention.
func (fx *fixture) settle() {
	if fx.be.Settle != nil {
		fx.be.Settle(fx.store)
	}
}

func ref(kind, name string) events.TargetRef { return events.TargetRef{Type: kind, Name: name} }

// checked is a check of target at slot (ms), checked at the slot time.
func checked(t events.TargetRef, state string, slot int64, latencyMS float64) events.HealthChecked {
	h := events.HealthChecked{Target: t, State: state, LatencyMS: latencyMS,
		CheckedAt: time.UnixMilli(slot).UTC(), Slot: slot, Prober: "replica-1"}
	if state != projections.StateUp {
		h.ErrorKind, h.Error = "timeout", "no answer"
	}
	if state == projections.StateUp {
		h.Details = rawJSON(map[string]any{"version": "16.1", "connections": float64(3)})
	}
	return h
}

// changed is a transition of target at (ms), decided by a check at the
// same time.
func changed(t events.TargetRef, epoch, seq int64, from, to string, at int64) events.StateChanged {
	return events.StateChanged{Target: t, From: from, To: to, Reason: "now " + to, Seq: seq, Epoch: epoch,
		At: time.UnixMilli(at).UTC(), Initial: from == projections.StateUnknown, Check: checked(t, to, at, 1.5)}
}

// handle feeds events through the handler groups as envelopes, like the
// bus consumers do.
func (fx *fixture) handle(t *testing.T, evs ...any) {
	t.Helper()
	ctx := context.Background()
	for _, ev := range evs {
		var env events.Envelope
		var err error
		switch e := ev.(type) {
		case events.HealthChecked:
			env, err = events.NewHealthChecked("test", e)
		case events.StateChanged:
			env, err = events.NewStateChanged("test", e)
		default:
			t.Fatalf("unexpected event %T", ev)
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range []interface {
			Handle(context.Context, events.Envelope) error
		}{fx.status, fx.history, fx.alerts} {
			if err := h.Handle(ctx, env); err != nil {
				t.Fatalf("handle %s: %v", env.ID, err)
			}
		}
	}
}

// one reads the status of one target.
func one(t *testing.T, fx *fixture, kind, name string) projections.TargetStatus {
	t.Helper()
	all, err := fx.store.StatusesOf(context.Background(), kind)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range all {
		if s.Name == name {
			return s
		}
	}
	t.Fatalf("no status for %s/%s in %+v", kind, name, all)
	return projections.TargetStatus{}
}

// firing lists "<id>:<severity>" of the firing alerts, newest first.
func firing(t *testing.T, fx *fixture) []string {
	t.Helper()
	var out []string
	for _, a := range alerts(t, fx, projections.AlertFiring) {
		out = append(out, a.ID+":"+a.Severity)
	}
	return out
}

func alerts(t *testing.T, fx *fixture, state string) []projections.Alert {
	t.Helper()
	as, err := fx.store.Alerts(context.Background(), projections.AlertQuery{State: state, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return as
}

// rawJSON encodes v as JSON details.
func rawJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}
