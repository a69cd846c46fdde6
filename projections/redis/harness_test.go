package redisstore

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

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
	rdb     redis.UniversalClient
	prefix  string
	clock   *clock
	store   *Store
	status  *projections.Status
	history *projections.History
	alerts  *projections.Alerts
}

// newFixture builds a Store (and handlers) under a fresh prefix on rdb.
func newFixture(t testing.TB, rdb redis.UniversalClient, prefix string, opts Options) *fixture {
	t.Helper()
	f := &fixture{rdb: rdb, prefix: prefix, clock: &clock{t: time.Now().UTC()}}
	opts.Prefix = prefix
	opts.Now = f.clock.Now
	var err error
	if f.store, err = New(rdb, opts); err != nil {
		t.Fatal(err)
	}
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

// backend opens a store server for a contract test and returns a client
// and a function making fresh, cleaned-up key prefixes on it.
type backend func(t testing.TB) (redis.UniversalClient, func() string)

// backends are the store servers every contract test runs against: the
// embedded miniredis (TTL clock on) and the machine's Redis (unless
// -short; keys under a random prefix, deleted after the test).
var backends = []struct {
	name string
	open backend
}{
	{"miniredis", func(t testing.TB) (redis.UniversalClient, func() string) {
		m := miniredis.RunT(t)
		m.ClockTTL(true)
		rdb := redis.NewClient(&redis.Options{Addr: m.Addr()})
		t.Cleanup(func() { _ = rdb.Close() })
		n := 0
		return rdb, func() string { n++; return fmt.Sprintf("t%d", n) }
	}},
	{"redis", func(t testing.TB) (redis.UniversalClient, func() string) {
		if testing.Short() {
			t.Skip("needs the machine's Redis")
		}
		rdb := redis.NewClient(&redis.Options{Addr: "127.0.0.1:6379"})
		if err := rdb.Ping(context.Background()).Err(); err != nil {
			t.Fatalf("redis: %v", err)
		}
		var prefixes []string
		t.Cleanup(func() {
			ctx := context.Background()
			for _, p := range prefixes {
				deleteKeys(ctx, rdb, p)
			}
			_ = rdb.Close()
		})
		return rdb, func() string {
			p := fmt.Sprintf("test-proj-%d", rand.Int64())
			prefixes = append(prefixes, p)
			return p
		}
	}},
}

// deleteKeys deletes every key under prefix (SCAN, never FLUSH).
func deleteKeys(ctx context.Context, rdb redis.UniversalClient, prefix string) {
	iter := rdb.Scan(ctx, 0, prefix+":*", 500).Iterator()
	var batch []string
	for iter.Next(ctx) {
		batch = append(batch, iter.Val())
		if len(batch) == 500 {
			rdb.Del(ctx, batch...)
			batch = batch[:0]
		}
	}
	if len(batch) > 0 {
		rdb.Del(ctx, batch...)
	}
}

// contract runs f against every backend with one fixture.
func contract(t *testing.T, opts Options, f func(t *testing.T, fx *fixture)) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			rdb, prefix := b.open(t)
			f(t, newFixture(t, rdb, prefix(), opts))
		})
	}
}

// contract2 runs f against every backend with two fixtures (same server,
// separate prefixes) to compare read models.
func contract2(t *testing.T, opts Options, f func(t *testing.T, a, b *fixture)) {
	for _, be := range backends {
		t.Run(be.name, func(t *testing.T) {
			rdb, prefix := be.open(t)
			f(t, newFixture(t, rdb, prefix(), opts), newFixture(t, rdb, prefix(), opts))
		})
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
		h.Details = map[string]any{"version": "16.1", "connections": float64(3)}
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
