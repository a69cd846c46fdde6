package bus

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dbhealth/database-service/testsupport/wait"
)

// deleteQueues deletes queues on the broker (one channel per delete: a
// failed one closes it).
func deleteQueues(t testing.TB, queues ...string) {
	t.Helper()
	for _, q := range queues {
		if _, err := rawChannel(t).QueueDelete(q, false, false, false); err != nil {
			t.Fatalf("delete queue %s: %v", q, err)
		}
	}
}

// getAll takes every ready message of a queue and returns their message
// ids: it consumes (basic.get is refused on a single-active-consumer
// quorum queue) until nothing arrived for 500ms.
func getAll(t testing.TB, queue string) []string {
	t.Helper()
	ch := rawChannel(t)
	defer func() { _ = ch.Close() }()
	d, err := ch.Consume(queue, "", true, false, false, false, nil)
	if err != nil {
		t.Fatalf("consume %s: %v", queue, err)
	}
	var ids []string
	for {
		select {
		case m := <-d:
			ids = append(ids, m.MessageId)
		case <-time.After(500 * time.Millisecond):
			return ids
		}
	}
}

// unrunBus is a bus with the group "proj" (bound to every transition)
// that does not Run, so no consumer declares the group queue again behind
// the test; the queue is declared when it returns.
func unrunBus(t *testing.T) (Config, *Bus, string) {
	t.Helper()
	cfg := rabbitConfig(t, "proj")
	b := newBus(t, cfg)
	if err := b.AddConsumer("proj", []string{"db.health.state_changed.*"}, newRecorder().handle); err != nil {
		t.Fatal(err)
	}
	group := cfg.QueueName("proj")
	// The group was added after the connection declared the topology: the
	// first transition finds its queue missing and declares it.
	if err := b.Publish(context.Background(), changed(t, "redis", "warmup", 1)); err != nil && !errors.Is(err, ErrUnroutable) {
		t.Fatal(err)
	}
	wait.Eventually(t, 5*time.Second, "the group queue declared", wait.Bool(func() bool { return queueLen(t, group) >= 0 }))
	return cfg, b, group
}

// A transition no queue takes (the group queue and the unrouted queue
// deleted behind the bus's back, the exchanges left) is returned by the
// broker: its Publish fails with ErrUnroutable, the topology is declared
// again, and the retry (the relay's, a Publish later) reaches the group
// queue exactly once. A check in the same situation is best effort: not
// mandatory, its Publish succeeds.
func TestRabbitReturnedTransitionFails(t *testing.T) {
	cfg, b, group := unrunBus(t)
	deleteQueues(t, group, cfg.UnroutedExchange())

	if err := b.Publish(context.Background(), checked(t, "redis", "a", 1)); err != nil {
		t.Fatalf("a check is not mandatory: %v", err)
	}
	e := changed(t, "redis", "a", 2)
	err := b.Publish(context.Background(), e)
	if !errors.Is(err, ErrUnroutable) {
		t.Fatalf("Publish of a transition no queue takes = %v, want ErrUnroutable", err)
	}
	t.Logf("first publish: %v", err)
	if n := queueLen(t, group); n != 0 {
		t.Fatalf("group queue after the return: %d messages (-1: missing), want declared again and empty", n)
	}
	if n := queueLen(t, cfg.UnroutedExchange()); n != 0 {
		t.Fatalf("unrouted queue after the return: %d messages (-1: missing), want declared again and empty", n)
	}
	if err := b.Publish(context.Background(), e); err != nil {
		t.Fatalf("retry after the declaration: %v", err)
	}
	if ids := getAll(t, group); len(ids) != 1 || ids[0] != e.ID {
		t.Fatalf("group queue holds %v, want the transition %s once", ids, e.ID)
	}
	if ids := getAll(t, cfg.UnroutedExchange()); len(ids) != 0 {
		t.Fatalf("unrouted queue holds %v, want nothing", ids)
	}
}

// A transition that only the alternate exchange's queue would take (the
// group queue deleted, the unrouted queue kept) is confirmed by the
// broker but fails all the same: it never reached its group. The
// topology is declared again, and the retry reaches the group queue
// exactly once.
func TestRabbitTransitionToMissingGroupQueueFails(t *testing.T) {
	cfg, b, group := unrunBus(t)
	getAll(t, group)
	getAll(t, cfg.UnroutedExchange())
	deleteQueues(t, group)

	e := changed(t, "redis", "a", 2)
	err := b.Publish(context.Background(), e)
	if !errors.Is(err, ErrUnroutable) {
		t.Fatalf("Publish while the group queue is missing = %v, want ErrUnroutable", err)
	}
	t.Logf("first publish: %v", err)
	if err := b.Publish(context.Background(), e); err != nil {
		t.Fatalf("retry after the declaration: %v", err)
	}
	if ids := getAll(t, group); len(ids) != 1 || ids[0] != e.ID {
		t.Fatalf("group queue holds %v, want the transition %s once", ids, e.ID)
	}
	// The first attempt went to the alternate exchange's queue (kept
	// there for inspection, never consumed).
	if ids := getAll(t, cfg.UnroutedExchange()); len(ids) != 1 || ids[0] != e.ID {
		t.Fatalf("unrouted queue holds %v, want the first attempt", ids)
	}
}

// The return tracker: a returned mandatory message is reported after its
// confirm, on the channel it went out on, and only once.
func TestReturnTrackerSeesReturnBeforeAck(t *testing.T) {
	ch := rawChannel(t)
	if err := ch.Confirm(false); err != nil {
		t.Fatal(err)
	}
	tr := trackReturns(ch)
	for i := range 50 {
		id := "m" + string(rune('a'+i%26)) + time.Now().Format("150405.000000000")
		// The default exchange with a queue name nobody declared: returned.
		dc, err := ch.PublishWithDeferredConfirm("", "no-such-queue-"+id, true, false, amqp.Publishing{MessageId: id, Body: []byte("x")})
		if err != nil {
			t.Fatal(err)
		}
		<-dc.Done()
		if !dc.Acked() {
			t.Fatal("not acked")
		}
		tr.sync()
		if _, ok := tr.take(id); !ok {
			t.Fatalf("message %d: return not seen after its ack", i)
		}
		if _, ok := tr.take(id); ok {
			t.Fatal("return reported twice")
		}
	}
	_ = ch.Close()
	<-tr.done
}

// In one batch over one channel, exactly the returned mandatory messages
// fail, whatever their place in the batch.
func TestRabbitBatchFailsOnlyReturned(t *testing.T) {
	cfg := rabbitConfig(t)
	cfg.ChannelPoolSize = 1
	b := newBus(t, cfg)
	ch := rawChannel(t)
	q, err := ch.QueueDeclare("", false, true, true, false, nil) // deleted with the test's connection
	if err != nil {
		t.Fatal(err)
	}
	var msgs []*outgoing
	for i := range 64 {
		key := q.Name
		if i%3 == 1 {
			key = q.Name + "-nobody"
		}
		msgs = append(msgs, &outgoing{key: key, subject: "s", mandatory: true,
			msg: amqp.Publishing{MessageId: fmt.Sprint("m", i), Body: []byte("x")}})
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for i, err := range b.pub.publishBatch(ctx, msgs) {
		if returned := i%3 == 1; returned != errors.Is(err, ErrUnroutable) || !returned && err != nil {
			t.Errorf("message %d (returned %v): %v", i, returned, err)
		}
	}
}
