package bus

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ThreeDotsLabs/watermill/message/router/middleware"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/testsupport/wait"
)

func TestRabbitRoundTripProperties(t *testing.T) {
	cfg := rabbitConfig(t, "all")
	b := newBus(t, cfg)
	if err := b.Check(context.Background()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	// A plain queue of our own, to read the AMQP properties.
	raw := rawChannel(t)
	q, err := raw.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := raw.QueueBind(q.Name, "#", cfg.Exchange, false, nil); err != nil {
		t.Fatal(err)
	}
	rec := newRecorder()
	if err := b.AddConsumer("all", []string{"db.health.#"}, rec.handle); err != nil {
		t.Fatal(err)
	}
	runBus(t, b)
	evs := []events.Envelope{changed(t, "postgres", "main", 7), checked(t, "redis", "cache", 42)}
	if err := b.Publish(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	wait.Eventually(t, 10*time.Second, "both events", wait.Bool(func() bool { return rec.distinct() == 2 }))
	for _, e := range evs {
		got := rec.envs[e.ID]
		if got.ID != e.ID || got.Type != e.Type || got.Subject != e.Subject || !got.Time.Equal(e.Time) ||
			string(got.Data) != string(e.Data) || got.DataSchema != e.DataSchema {
			t.Errorf("round trip changed %s: %+v", e.ID, got)
		}
		d := rec.dels[e.ID]
		if d.Group != "all" || d.RoutingKey != e.RoutingKey() || d.Redelivered || d.Count != 0 {
			t.Errorf("delivery of %s = %+v", e.ID, d)
		}
	}
	byID := map[string]amqp.Delivery{}
	wait.Eventually(t, 5*time.Second, "raw messages", wait.Bool(func() bool {
		m, ok, err := raw.Get(q.Name, true)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			byID[m.MessageId] = m
		}
		return len(byID) == len(evs)
	}))
	for _, e := range evs {
		m := byID[e.ID]
		// Checks are best effort (transient); transitions are persistent.
		mode := uint8(amqp.Persistent)
		if e.Type == events.TypeHealthChecked {
			mode = amqp.Transient
		}
		if m.Type != e.Type || m.ContentType != ContentType ||
			m.DeliveryMode != mode || !m.Timestamp.Equal(e.Time.Truncate(time.Second)) ||
			m.RoutingKey != e.RoutingKey() || m.AppId != cfg.ServiceName || m.Exchange != cfg.Exchange {
			t.Errorf("properties of %s: type=%q ct=%q mode=%d ts=%v key=%q app=%q exchange=%q",
				e.ID, m.Type, m.ContentType, m.DeliveryMode, m.Timestamp, m.RoutingKey, m.AppId, m.Exchange)
		}
		if back, err := events.Decode(m.Body); err != nil || back.ID != e.ID {
			t.Errorf("body of %s does not decode: %v", e.ID, err)
		}
	}
}

func TestRabbitBindingPatterns(t *testing.T) {
	cfg := rabbitConfig(t, "all", "changes", "postgres", "none")
	b := newBus(t, cfg)
	recs := addPatternGroups(t, b)
	evs, want := patternEvents(t)
	// Queues exist from AddConsumer on: the broker routes before Run.
	if err := b.Publish(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	for g, evs := range want {
		if n := queueLen(t, cfg.QueueName(g)); n != len(evs) {
			t.Errorf("queue of %s (%s) holds %d messages, want %d", g, patternGroups[g], n, len(evs))
		}
	}
	if n := queueLen(t, cfg.UnroutedExchange()); n != 0 {
		t.Errorf("unrouted queue holds %d, want 0", n)
	}
	runBus(t, b)
	for g, evs := range want {
		wantEachOnce(t, recs[g], g, evs, 10*time.Second)
	}
}

func TestRabbitUnroutableKept(t *testing.T) {
	cfg := rabbitConfig(t, "postgres")
	b := newBus(t, cfg)
	if err := b.AddConsumer("postgres", []string{"db.health.*.postgres"}, newRecorder().handle); err != nil {
		t.Fatal(err)
	}
	e := checked(t, "nacos", "registry", 3) // no binding matches
	if err := b.Publish(context.Background(), e); err != nil {
		t.Fatalf("an unroutable message must still be confirmed: %v", err)
	}
	ch := rawChannel(t)
	m, ok, err := ch.Get(cfg.UnroutedExchange(), true)
	if err != nil || !ok {
		t.Fatalf("unrouted queue: ok=%v err=%v", ok, err)
	}
	if m.MessageId != e.ID || m.RoutingKey != "db.health.checked.nacos" {
		t.Fatalf("unrouted message: id=%q key=%q", m.MessageId, m.RoutingKey)
	}
}

func TestRabbitPoison(t *testing.T) {
	cfg := rabbitConfig(t, "proj")
	cfg.RetryInterval = 5 * time.Millisecond
	cfg.RetryMaxInterval = 20 * time.Millisecond
	b := newBus(t, cfg)
	flaky, panics := checked(t, "redis", "flaky", 1), checked(t, "redis", "panics", 1)
	var flakyAttempts atomic.Int32
	rec := newRecorder()
	rec.fn = func(_ context.Context, e events.Envelope) error {
		switch e.ID {
		case flaky.ID:
			// A store that is down for a while: retried until it is back,
			// never poisoned.
			if flakyAttempts.Add(1) <= 6 {
				return errors.New("store unavailable")
			}
		case panics.ID:
			panic("handler bug")
		}
		return nil
	}
	if err := b.AddConsumer("proj", []string{"db.health.#"}, rec.handle); err != nil {
		t.Fatal(err)
	}
	runBus(t, b)

	before, after := checked(t, "redis", "before", 1), checked(t, "redis", "after", 1)
	if err := b.Publish(context.Background(), before); err != nil {
		t.Fatal(err)
	}
	// Poison straight into the group's queue, as another client could.
	unknown, _ := json.Marshal(events.Envelope{SpecVersion: "1.0", ID: "x:1", Source: "s", Subject: "redis/x",
		Type: "db.health.bogus.v1", Data: json.RawMessage(`{}`)})
	raw := rawChannel(t)
	for i, body := range [][]byte{[]byte("{not json"), unknown} {
		if err := raw.Publish("", cfg.QueueName("proj"), false, false, amqp.Publishing{
			MessageId: fmt.Sprint("poison-", i), Body: body, DeliveryMode: amqp.Persistent,
		}); err != nil {
			t.Fatal(err)
		}
	}
	if err := b.Publish(context.Background(), flaky, panics, after); err != nil {
		t.Fatal(err)
	}
	wait.Eventually(t, 15*time.Second, "valid events around the poison, the flaky one included", wait.Bool(func() bool {
		return rec.count(before.ID) == 1 && rec.count(after.ID) == 1 && rec.count(flaky.ID) == 1
	}))
	wait.Eventually(t, 15*time.Second, "three messages in the poison queue", wait.Bool(func() bool {
		return queueLen(t, cfg.PoisonQueue()) == 3
	}))
	if n := flakyAttempts.Load(); n != 7 {
		t.Errorf("flaky handler ran %d times, want 6 failures and the success", n)
	}
	reasons := map[string]string{}
	for range 3 {
		m, ok, err := raw.Get(cfg.PoisonQueue(), true)
		if err != nil || !ok {
			t.Fatalf("poison queue: ok=%v err=%v", ok, err)
		}
		reason, _ := m.Headers[middleware.ReasonForPoisonedKey].(string)
		reasons[m.MessageId] = reason
	}
	for id, want := range map[string]string{
		"poison-0": "invalid event", "poison-1": "unknown type", panics.ID: "handler bug",
	} {
		if !strings.Contains(reasons[id], want) {
			t.Errorf("poison %s: reason %q, want it to mention %q", id, reasons[id], want)
		}
	}
	if _, poisoned := reasons[flaky.ID]; poisoned {
		t.Error("a transient failure was poisoned")
	}
}

// A delivery whose headers are not strings (x-delivery-count, x-death, as
// the broker adds them on redelivery and dead-lettering) is handled, the
// marshaler's PreprocessDelivery making them strings (x-death as JSON).
func TestRabbitRedeliveryHeaders(t *testing.T) {
	cfg := rabbitConfig(t, "proj")
	b := newBus(t, cfg)
	forged := checked(t, "redis", "forged", 1)
	rec := newRecorder()
	if err := b.AddConsumer("proj", []string{"db.health.#"}, rec.handle); err != nil {
		t.Fatal(err)
	}
	runBus(t, b)
	body, _ := events.Encode(forged)
	raw := rawChannel(t)
	if err := raw.Publish("", cfg.QueueName("proj"), false, false, amqp.Publishing{
		MessageId: forged.ID, Body: body, Headers: amqp.Table{
			"x-delivery-count": int64(3),
			"x-death": []any{amqp.Table{"count": int64(1), "reason": "rejected", "queue": "q",
				"time": time.Now().Truncate(time.Second), "routing-keys": []any{"k"}}},
			"x-first-death-reason": "rejected",
		},
	}); err != nil {
		t.Fatal(err)
	}
	wait.Eventually(t, 10*time.Second, "the forged event", wait.Bool(func() bool { return rec.count(forged.ID) == 1 }))
	if d := rec.dels[forged.ID]; d.Count != 3 || !d.Redelivered || d.Metadata["x-first-death-reason"] != "rejected" ||
		!strings.Contains(d.Metadata["x-death"], `"reason":"rejected"`) {
		t.Errorf("forged delivery = %+v", d)
	}
}

// Deleting the exchange under a running publisher: the next Publish
// declares the topology again and succeeds.
func TestRabbitExchangeDeletedRedeclared(t *testing.T) {
	cfg := rabbitConfig(t)
	b := newBus(t, cfg)
	if err := b.Publish(context.Background(), checked(t, "redis", "a", 1)); err != nil {
		t.Fatal(err)
	}
	if err := rawChannel(t).ExchangeDelete(cfg.Exchange, false, false); err != nil {
		t.Fatal(err)
	}
	e := checked(t, "redis", "a", 2)
	if err := b.Publish(context.Background(), e); err != nil {
		t.Fatalf("Publish after the exchange was deleted: %v", err)
	}
	// The exchange is back with its alternate exchange (no queue is bound now).
	wait.Eventually(t, 5*time.Second, "the event in the unrouted queue", wait.Bool(func() bool {
		return queueLen(t, cfg.UnroutedExchange()) >= 1
	}))
}

// Two replicas: a shared group handles each event once in all (one active
// consumer per queue), a per-replica group handles each event on every
// replica.
func TestRabbitTwoReplicas(t *testing.T) {
	cfg := rabbitConfig(t, "proj")
	shared := newRecorder()
	var replicas [2]*recorder
	var buses [2]*Bus
	for i := range buses {
		c := cfg
		c.ReplicaID = fmt.Sprint("r", i)
		buses[i] = newBus(t, c)
		replicas[i] = newRecorder()
		if err := buses[i].AddConsumer("proj", []string{"db.health.#"}, shared.handle); err != nil {
			t.Fatal(err)
		}
		if err := buses[i].AddReplicaConsumer("sse", []string{"db.health.state_changed.*"}, replicas[i].handle); err != nil {
			t.Fatal(err)
		}
		runBus(t, buses[i])
	}
	// Per-replica queues exist once each replica subscribed.
	for i := range buses {
		name := cfg.ServiceName + ".sse.r" + fmt.Sprint(i)
		wait.Eventually(t, 10*time.Second, "replica queue "+name, wait.Bool(func() bool { return exclusiveQueueExists(t, name) }))
	}
	var evs []events.Envelope
	for i := range 20 {
		evs = append(evs, changed(t, "redis", fmt.Sprint("t", i%4), int64(i+1)), checked(t, "redis", "x", int64(i)))
	}
	if err := buses[0].Publish(context.Background(), evs[:20]...); err != nil {
		t.Fatal(err)
	}
	if err := buses[1].Publish(context.Background(), evs[20:]...); err != nil {
		t.Fatal(err)
	}
	wait.Eventually(t, 10*time.Second, "shared group", wait.Bool(func() bool { return shared.distinct() == len(evs) }))
	for i, r := range replicas {
		wait.Eventually(t, 10*time.Second, fmt.Sprint("replica ", i), wait.Bool(func() bool { return r.distinct() == 20 }))
	}
	if n := shared.total.Load(); n != int64(len(evs)) {
		t.Errorf("shared group handled %d events, want %d (once each)", n, len(evs))
	}
}

// With Concurrency > 1 events of one subject are still handled one at a
// time and in order.
func TestRabbitPerSubjectOrder(t *testing.T) {
	cfg := rabbitConfig(t, "proj")
	cfg.Concurrency = 8
	b := newBus(t, cfg)
	var mu sync.Mutex
	inFlight := map[string]bool{}
	last := map[string]int64{}
	var violations []string
	var handled atomic.Int64
	if err := b.AddConsumer("proj", []string{"db.health.#"}, func(_ context.Context, e events.Envelope) error {
		s, err := e.StateChanged()
		if err != nil {
			return err
		}
		mu.Lock()
		if inFlight[e.Subject] {
			violations = append(violations, "concurrent "+e.ID)
		}
		if s.Seq != last[e.Subject]+1 {
			violations = append(violations, fmt.Sprintf("%s after seq %d", e.ID, last[e.Subject]))
		}
		inFlight[e.Subject] = true
		last[e.Subject] = s.Seq
		mu.Unlock()
		time.Sleep(time.Duration(s.Seq%3) * time.Millisecond)
		mu.Lock()
		inFlight[e.Subject] = false
		mu.Unlock()
		handled.Add(1)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	const subjects, perSubject = 6, 40
	var evs []events.Envelope
	for seq := int64(1); seq <= perSubject; seq++ {
		for s := range subjects {
			evs = append(evs, changed(t, "redis", fmt.Sprint("t", s), seq))
		}
	}
	if err := b.Publish(context.Background(), evs...); err != nil {
		t.Fatal(err)
	}
	runBus(t, b)
	wait.Eventually(t, 20*time.Second, "all events", wait.Bool(func() bool { return handled.Load() == int64(len(evs)) }))
	mu.Lock()
	defer mu.Unlock()
	if len(violations) > 0 {
		t.Fatalf("%d ordering violations, first: %v", len(violations), violations[:min(5, len(violations))])
	}
}

// The broker cancels the consumer (its queue was deleted): the
// subscription starts over, declares the queue again and goes on.
func TestRabbitConsumerCancelledByBroker(t *testing.T) {
	cfg := rabbitConfig(t, "proj")
	b := newBus(t, cfg)
	rec := newRecorder()
	if err := b.AddConsumer("proj", []string{"db.health.#"}, rec.handle); err != nil {
		t.Fatal(err)
	}
	runBus(t, b)
	first := checked(t, "redis", "a", 1)
	if err := b.Publish(context.Background(), first); err != nil {
		t.Fatal(err)
	}
	wait.Eventually(t, 10*time.Second, "first event", wait.Bool(func() bool { return rec.count(first.ID) == 1 }))
	if _, err := rawChannel(t).QueueDelete(cfg.QueueName("proj"), false, false, false); err != nil {
		t.Fatal(err)
	}
	// Events published before the queue is back land in the unrouted
	// queue: publish until one arrives.
	seq := int64(1)
	wait.Eventually(t, 20*time.Second, "an event after the cancel", wait.Bool(func() bool {
		if rec.total.Load() > 1 {
			return true
		}
		seq++
		if err := b.Publish(context.Background(), checked(t, "redis", "a", seq)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(100 * time.Millisecond)
		return false
	}))
	for id, n := range rec.idSet() {
		if n != 1 || id == "" {
			t.Fatalf("event %q handled %d times", id, n)
		}
	}
}
