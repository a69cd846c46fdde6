package bus

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/testsupport/servers"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// A broker that stops answering (a stalled network, or a resource alarm
// that makes it stop reading) makes Publish fail at PublishTimeout instead
// of blocking, PublishAsync drop instead of blocking, and publishing works
// again once the broker answers.
func TestRabbitPublishTimeoutWhenBrokerStalls(t *testing.T) {
	cfg := rabbitConfig(t)
	proxy := servers.StartProxy(t, servers.MachineRabbitMQ().Addr())
	cfg.URL = secret.String(servers.MachineRabbitMQ().Via(proxy.Addr()).URL())
	cfg.PublishTimeout = 300 * time.Millisecond
	cfg.Heartbeat = time.Minute // the stall must outlive the test, not the connection
	cfg.AsyncBuffer = 8
	cfg.AsyncWorkers = 1
	b := newBus(t, cfg)
	if err := b.Publish(context.Background(), checked(t, "redis", "a", 1)); err != nil {
		t.Fatalf("Publish through the proxy: %v", err)
	}

	proxy.Pause()
	start := time.Now()
	err := b.Publish(context.Background(), checked(t, "redis", "a", 2))
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("Publish while stalled = %v, want ErrTimeout", err)
	}
	if d := time.Since(start); d > 10*cfg.PublishTimeout {
		t.Fatalf("Publish took %v, bounded by PublishTimeout %v", d, cfg.PublishTimeout)
	}
	// A caller's own deadline wins when shorter, with its own cause.
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	err = b.Publish(ctx, checked(t, "redis", "a", 3))
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Publish with a short ctx = %v, want context.DeadlineExceeded", err)
	}

	done := make(chan int)
	go func() {
		accepted := 0
		for i := range 200 {
			if b.PublishAsync(checked(t, "redis", "b", int64(i))) {
				accepted++
			}
		}
		done <- accepted
	}()
	select {
	case accepted := <-done:
		if accepted >= 200 {
			t.Fatalf("PublishAsync accepted %d events into a buffer of %d", accepted, cfg.AsyncBuffer)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("PublishAsync blocked while the broker stalls")
	}
	if v := testutil.ToFloat64(b.metrics.dropped.WithLabelValues(events.TypeHealthChecked, dropBufferFull)); v == 0 {
		t.Error("no buffer_full drops counted")
	}

	proxy.Resume()
	wait.Eventually(t, 15*time.Second, "publishing to recover", wait.Bool(func() bool {
		return b.Publish(context.Background(), checked(t, "redis", "a", 4)) == nil
	}))
}

// Connections dropped during a stream of publishes, once force-closed by
// the broker (as `rabbitmqctl close_all_connections` does) and once cut
// on the network: publisher and consumer reconnect, and every event whose
// Publish returned nil reaches the consumer (duplicates allowed, losses
// not).
func TestRabbitForcedCloseLosesNothing(t *testing.T) {
	cfg := rabbitConfig(t, "all")
	proxy := servers.StartProxy(t, servers.MachineRabbitMQ().Addr())
	cfg.URL = secret.String(servers.MachineRabbitMQ().Via(proxy.Addr()).URL())
	reg := prometheus.NewRegistry()
	cfg.Registerer = reg
	cfg.PublishTimeout = 2 * time.Second
	b := newBus(t, cfg)
	rec := newRecorder()
	if err := b.AddConsumer("all", []string{"db.health.#"}, rec.handle); err != nil {
		t.Fatal(err)
	}
	runBus(t, b)

	var (
		mu        sync.Mutex
		confirmed = map[string]bool{}
		failures  atomic.Int64
	)
	nConfirmed := func() int { mu.Lock(); defer mu.Unlock(); return len(confirmed) }
	// About 400 events/s in all: the consumer keeps up under -race.
	stop := startRelays(t, b, 4, 20*time.Millisecond, 50*time.Millisecond,
		func(batch []events.Envelope, _ int, _ time.Duration, err error) {
			if err != nil {
				failures.Add(1)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, e := range batch {
				confirmed[e.ID] = true
			}
		})
	for round := range 2 {
		target := nConfirmed() + 300
		wait.Eventually(t, 30*time.Second, "publishing to go on", wait.Bool(func() bool { return nConfirmed() >= target }))
		if round == 0 {
			if n := closeConnections(t, cfg.ServiceName+"/"); n < 2 {
				t.Fatalf("closed %d connections, want publish and consume", n)
			}
		} else {
			proxy.Cut()
		}
	}
	target := nConfirmed() + 300
	wait.Eventually(t, 30*time.Second, "publishing to recover", wait.Bool(func() bool { return nConfirmed() >= target }))
	stop()

	mu.Lock()
	ids := confirmed
	mu.Unlock()
	wait.Eventually(t, 60*time.Second, "every confirmed event to be consumed", wait.Bool(consumedAll(rec, ids)))
	got := rec.idSet()
	dups := 0
	for _, n := range got {
		dups += n - 1
	}
	t.Logf("confirmed %d events, consumed %d distinct (%d duplicates), %d failed publish attempts, reconnects: publish %v consume %v subscription %v",
		len(ids), len(got), dups, failures.Load(),
		testutil.ToFloat64(b.metrics.reconnects.WithLabelValues("publish")), testutil.ToFloat64(b.metrics.reconnects.WithLabelValues("consume")),
		testutil.ToFloat64(b.metrics.reconnects.WithLabelValues("subscription")))
	if v := testutil.ToFloat64(b.metrics.reconnects.WithLabelValues("publish")); v < 2 {
		t.Errorf("publish connection reconnected %v times, want 2", v)
	}
	if v := testutil.ToFloat64(b.metrics.reconnects.WithLabelValues("consume")); v < 2 {
		t.Errorf("consume connection reconnected %v times, want 2", v)
	}
	if err := b.Check(context.Background()); err != nil {
		t.Errorf("Check after recovery: %v", err)
	}
}

// While the broker blocks the connection (memory or disk alarm, signalled
// by connection.blocked), Publish fails at once with ErrBlocked and Check
// reports it. The alarm itself is shared broker state, so the test sets
// the flag the connection.blocked notification sets.
func TestRabbitBlockedFailsFast(t *testing.T) {
	cfg := rabbitConfig(t)
	b := newBus(t, cfg)
	b.pubConn.blocked.Store(true)
	if err := b.Publish(context.Background(), checked(t, "redis", "a", 1)); !errors.Is(err, ErrBlocked) {
		t.Fatalf("Publish while blocked = %v, want ErrBlocked", err)
	}
	if err := b.Check(context.Background()); !errors.Is(err, ErrBlocked) {
		t.Fatalf("Check while blocked = %v, want ErrBlocked", err)
	}
	b.pubConn.blocked.Store(false)
	if err := b.Publish(context.Background(), checked(t, "redis", "a", 2)); err != nil {
		t.Fatalf("Publish after unblock: %v", err)
	}
}
