package bus

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// batchRecorder is a CheckHandler recording what it projected; it fails
// while failing is set and rejects the checks of target "reject".
type batchRecorder struct {
	mu      sync.Mutex
	batches [][]events.HealthChecked
	seen    map[string]int
	failing atomic.Bool
	fails   atomic.Int32
}

func (r *batchRecorder) handle(_ context.Context, hs []events.HealthChecked) ([]int, error) {
	if r.failing.Load() {
		r.fails.Add(1)
		return nil, errors.New("store down")
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	var poison []int
	r.batches = append(r.batches, hs)
	for i, h := range hs {
		if h.Target.Name == "reject" {
			poison = append(poison, i)
			continue
		}
		r.seen[h.ID()]++
	}
	return poison, nil
}

func (r *batchRecorder) count() (ids, deliveries, batches int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, n := range r.seen {
		deliveries += n
	}
	return len(r.seen), deliveries, len(r.batches)
}

func TestCheckConsumerBatchesPoisonsAndRequeues(t *testing.T) {
	cfg := rabbitConfig(t, "checks")
	b := newBus(t, cfg)
	rec := &batchRecorder{seen: map[string]int{}}
	if err := b.AddCheckConsumer("checks", []string{"db.health.checked.*"}, rec.handle); err != nil {
		t.Fatal(err)
	}
	if err := b.AddCheckConsumer("checks", []string{"db.health.checked.*"}, rec.handle); err == nil {
		t.Fatal("the same group added twice")
	}
	// Published before Run: the queue is declared by AddCheckConsumer.
	var evs []events.Envelope
	for i := range 500 {
		evs = append(evs, checked(t, "redis", fmt.Sprint("t", i%50), int64(i+1)))
	}
	evs = append(evs, checked(t, "redis", "reject", 1))
	if err := b.Publish(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	raw := rawChannel(t)
	if err := raw.Publish("", cfg.QueueName("checks"), false, false, amqp.Publishing{MessageId: "junk", Body: []byte("{not json")}); err != nil {
		t.Fatal(err)
	}
	runBus(t, b)
	wait.Eventually(t, 10*time.Second, "every check projected", wait.Bool(func() bool { ids, _, _ := rec.count(); return ids == 500 }))
	wait.Eventually(t, 10*time.Second, "the rejected and the undecodable check dead-lettered", wait.Bool(func() bool {
		return queueLen(t, cfg.PoisonQueue()) == 2
	}))
	ids, deliveries, batches := rec.count()
	if deliveries != 500 || batches > 20 {
		t.Fatalf("%d deliveries of %d checks in %d batches; want each once, in batches", deliveries, ids, batches)
	}

	// The store fails: the batch goes back to the queue, nothing is lost
	// or poisoned, and it is projected once the store is back.
	rec.failing.Store(true)
	more := []events.Envelope{checked(t, "redis", "late", 1), checked(t, "redis", "late", 2)}
	if err := b.Publish(context.Background(), more...); err != nil {
		t.Fatal(err)
	}
	wait.Eventually(t, 10*time.Second, "failed attempts", wait.Bool(func() bool { return rec.fails.Load() >= 2 }))
	rec.failing.Store(false)
	wait.Eventually(t, 20*time.Second, "the requeued checks projected", wait.Bool(func() bool { ids, _, _ := rec.count(); return ids == 502 }))
	if n := queueLen(t, cfg.PoisonQueue()); n != 2 {
		t.Fatalf("poison queue has %d messages after a store outage, want still 2", n)
	}
	if got := testutil.ToFloat64(b.metrics.failed.WithLabelValues("checks", "requeued")); got < 2 {
		t.Fatalf("requeued metric %v", got)
	}
}

func TestCheckConsumerNeedsRabbitMQ(t *testing.T) {
	b := newBus(t, Config{})
	err := b.AddCheckConsumer("checks", []string{"db.health.checked.*"}, func(context.Context, []events.HealthChecked) ([]int, error) {
		return nil, nil
	})
	if !errors.Is(err, ErrConfig) {
		t.Fatalf("embedded: %v, want ErrConfig", err)
	}
}
