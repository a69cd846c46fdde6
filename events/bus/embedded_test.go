package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/testsupport/wait"
)

func TestEmbeddedRoundTrip(t *testing.T) {
	reg := prometheus.NewRegistry()
	b := newBus(t, Config{Registerer: reg, RetryInterval: time.Millisecond})
	recs := addPatternGroups(t, b)
	// Two bindings that both match still deliver once.
	twice := newRecorder()
	if err := b.AddConsumer("twice", []string{"db.health.#", "db.health.checked.*"}, twice.handle); err != nil {
		t.Fatal(err)
	}
	evs, want := patternEvents(t)
	// Published before Run: kept until the router runs.
	if err := b.Publish(context.Background(), evs[:2]...); err != nil {
		t.Fatal(err)
	}
	runBus(t, b)
	if err := b.Publish(context.Background(), evs[2:]...); err != nil {
		t.Fatal(err)
	}
	want["twice"] = evs
	recs["twice"] = twice
	for g, evs := range want {
		wantEachOnce(t, recs[g], g, evs, 5*time.Second)
		if got := recs[g].total.Load(); got != int64(len(evs)) {
			t.Errorf("group %s handled %d events, want %d", g, got, len(evs))
		}
	}
	if n := recs["none"].total.Load(); n != 0 {
		t.Errorf("db.health.* matched %d events, want none", n)
	}
	d := recs["all"].dels[evs[2].ID]
	if d.Group != "all" || d.RoutingKey != "db.health.state_changed.postgres" {
		t.Errorf("delivery = %+v", d)
	}
	got := recs["all"].envs[evs[2].ID]
	if string(got.Data) != string(evs[2].Data) || got.Type != evs[2].Type || !got.Time.Equal(evs[2].Time) {
		t.Errorf("round trip changed the envelope: %+v", got)
	}
	wait.Eventually(t, time.Second, "consumed metric", wait.Bool(func() bool {
		return testutil.ToFloat64(b.metrics.consumed.WithLabelValues("all", events.TypeStateChanged)) == 2
	}))
	if v := testutil.ToFloat64(b.metrics.published.WithLabelValues(events.TypeHealthChecked)); v != 2 {
		t.Errorf("published{checked} = %v, want 2", v)
	}
}

func TestEmbeddedPoisonAndRetry(t *testing.T) {
	b := newBus(t, Config{RetryInterval: time.Millisecond})
	var mu sync.Mutex
	attempts := map[string]int{}
	rec := newRecorder()
	rec.fn = func(_ context.Context, e events.Envelope) error {
		mu.Lock()
		attempts[e.ID]++
		n := attempts[e.ID]
		mu.Unlock()
		switch {
		case e.Subject == "redis/flaky" && n < 2:
			return errors.New("transient")
		case e.Subject == "redis/bad":
			return fmt.Errorf("%w: handler says so", events.ErrInvalid)
		case e.Subject == "redis/broken":
			panic("handler bug")
		}
		return nil
	}
	if err := b.AddConsumer("proj", []string{"db.health.#"}, rec.handle); err != nil {
		t.Fatal(err)
	}
	runBus(t, b)
	flaky, bad, broken, ok := checked(t, "redis", "flaky", 1), checked(t, "redis", "bad", 1),
		checked(t, "redis", "broken", 1), checked(t, "redis", "ok", 1)
	if err := b.Publish(context.Background(), flaky, bad, broken); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(context.Background(), ok); err != nil {
		t.Fatal(err)
	}
	wait.Eventually(t, 5*time.Second, "flaky and ok handled", wait.Bool(func() bool { return rec.count(flaky.ID) == 1 && rec.count(ok.ID) == 1 }))
	wait.Eventually(t, 5*time.Second, "two poisoned", wait.Bool(func() bool {
		return testutil.ToFloat64(b.metrics.failed.WithLabelValues("proj", "poisoned")) == 2
	}))
	if rec.count(bad.ID)+rec.count(broken.ID) != 0 {
		t.Fatal("failed events counted as handled")
	}
}

func TestPublishRejectsIncompleteEnvelope(t *testing.T) {
	b := newBus(t, Config{})
	if err := b.Publish(context.Background(), events.Envelope{Type: events.TypeHealthChecked}); !errors.Is(err, events.ErrInvalid) {
		t.Fatalf("Publish = %v, want ErrInvalid", err)
	}
}

func TestAddConsumerValidation(t *testing.T) {
	b := newBus(t, Config{})
	h := newRecorder().handle
	for name, add := range map[string]func() error{
		"no bindings": func() error { return b.AddConsumer("g", nil, h) },
		"bad group":   func() error { return b.AddConsumer("a b", []string{"#"}, h) },
		"bad binding": func() error { return b.AddConsumer("g", []string{"db..x"}, h) },
		"nil handler": func() error { return b.AddConsumer("g", []string{"#"}, nil) },
	} {
		if err := add(); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: %v, want ErrConfig", name, err)
		}
	}
	if err := b.AddConsumer("g", []string{"#"}, h); err != nil {
		t.Fatal(err)
	}
	if err := b.AddConsumer("g", []string{"#"}, h); !errors.Is(err, ErrConfig) {
		t.Errorf("duplicate group: %v", err)
	}
	runBus(t, b)
	wait.Eventually(t, time.Second, "running", wait.Bool(func() bool { b.mu.Lock(); defer b.mu.Unlock(); return b.running }))
	if err := b.AddConsumer("late", []string{"#"}, h); !errors.Is(err, ErrRunning) {
		t.Errorf("AddConsumer after Run: %v", err)
	}
}

func TestClosedBus(t *testing.T) {
	b := newBus(t, Config{})
	_ = b.Close()
	if err := b.Publish(context.Background(), checked(t, "redis", "x", 1)); !errors.Is(err, ErrClosed) {
		t.Fatalf("Publish after Close = %v", err)
	}
	if b.PublishAsync(checked(t, "redis", "x", 1)) {
		t.Fatal("PublishAsync after Close accepted the event")
	}
	if err := b.Check(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Check after Close = %v", err)
	}
	if err := b.Run(context.Background()); !errors.Is(err, ErrClosed) {
		t.Fatalf("Run after Close = %v", err)
	}
}

func TestEmbeddedPublishAsync(t *testing.T) {
	b := newBus(t, Config{AsyncBuffer: 4096})
	rec := newRecorder()
	if err := b.AddConsumer("all", []string{"db.health.#"}, rec.handle); err != nil {
		t.Fatal(err)
	}
	runBus(t, b)
	const n = 1000
	for i := range n {
		if !b.PublishAsync(checked(t, "redis", fmt.Sprint("t", i%10), int64(i))) {
			t.Fatal("PublishAsync dropped with room in the buffer")
		}
	}
	wait.Eventually(t, 10*time.Second, "async events", wait.Bool(func() bool { return rec.distinct() == n }))
}

// The embedded bus hands a group one event at a time.
func TestEmbeddedOneAtATime(t *testing.T) {
	b := newBus(t, Config{})
	var inFlight, most, handled atomic.Int32
	if err := b.AddConsumer("g", []string{"#"}, func(context.Context, events.Envelope) error {
		n := inFlight.Add(1)
		for {
			m := most.Load()
			if n <= m || most.CompareAndSwap(m, n) {
				break
			}
		}
		time.Sleep(100 * time.Microsecond)
		inFlight.Add(-1)
		handled.Add(1)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	runBus(t, b)
	for i := range 100 {
		if err := b.Publish(context.Background(), checked(t, "redis", fmt.Sprint("t", i), 1)); err != nil {
			t.Fatal(err)
		}
	}
	wait.Eventually(t, 10*time.Second, "all events", wait.Bool(func() bool { return handled.Load() == 100 }))
	if m := most.Load(); m != 1 {
		t.Fatalf("%d events handled at once", m)
	}
}
