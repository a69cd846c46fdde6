package bus

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dbhealth/database-service/config/secret"
	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/testsupport/servers"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// TestBrokerCrashRecovery kills a RabbitMQ node of the test's own with
// SIGKILL while events are published and consumed, restarts it (with its
// definitions, then without them), and requires publishing to work again
// within seconds of the restart, with every confirmed transition consumed
// by the group afterwards.
func TestBrokerCrashRecovery(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a RabbitMQ node")
	}
	node := servers.StartRabbit(t)
	const settle = 12 * time.Second
	for _, forget := range []bool{false, true} {
		t.Run(fmt.Sprintf("definitions lost %v", forget), func(t *testing.T) {
			cfg := Config{URL: secret.String(node.URL()), Exchange: "crash", ServiceName: "crash", ReplicaID: "r1",
				PublishTimeout: time.Second, Heartbeat: 2 * time.Second}.WithDefaults()
			b := newBus(t, cfg)
			var mu sync.Mutex
			got := map[string]bool{}
			if err := b.AddConsumer("proj", []string{"db.health.state_changed.*"}, func(_ context.Context, e events.Envelope) error {
				mu.Lock()
				got[e.ID] = true
				mu.Unlock()
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			runBus(t, b)
			var confirmed []string
			publish := func(seq int64) error {
				e := changed(t, "redis", "crash", seq)
				err := b.Publish(context.Background(), e)
				if err == nil {
					confirmed = append(confirmed, e.ID)
				}
				return err
			}
			seq := int64(0)
			for range 5 {
				seq++
				if err := publish(seq); err != nil {
					t.Fatalf("before the crash: %v", err)
				}
			}
			// Quorum queues declared moments before a SIGKILL can come back
			// without a leader (Ra had not written their membership yet):
			// the broker's, not the client's, and a case no deployment is
			// in. Crash an established broker.
			time.Sleep(settle)
			node.Kill()
			if forget {
				node.Forget()
			}
			for range 3 {
				seq++
				_ = publish(seq) // fails while the broker is down
			}
			node.Start()
			restarted := time.Now()
			var recovered time.Duration
			lastLog := time.Time{}
			for time.Since(restarted) < 60*time.Second {
				seq++
				err := publish(seq)
				if err == nil {
					recovered = time.Since(restarted)
					break
				}
				if time.Since(lastLog) > 2*time.Second {
					t.Logf("%v after the restart: %v (bus %v)", time.Since(restarted).Round(time.Millisecond), err, b.Check(context.Background()))
					lastLog = time.Now()
				}
				time.Sleep(100 * time.Millisecond)
			}
			if recovered == 0 {
				conn, err := amqp.Dial(node.URL())
				if err != nil {
					t.Fatal(err)
				}
				ch, _ := conn.Channel()
				_ = ch.Confirm(false)
				dc, err := ch.PublishWithDeferredConfirm(cfg.Exchange, "db.health.state_changed.redis", false, false, amqp.Publishing{Body: []byte("x")})
				t.Logf("raw publish: %v", err)
				select {
				case <-dc.Done():
					t.Logf("raw confirm: acked %v", dc.Acked())
				case <-time.After(5 * time.Second):
					t.Logf("raw confirm: none in 5s")
				}
				dc, _ = ch.PublishWithDeferredConfirm("", "nonexistent-queue-x", false, false, amqp.Publishing{Body: []byte("x")})
				select {
				case <-dc.Done():
					t.Logf("raw confirm to the default exchange: acked %v", dc.Acked())
				case <-time.After(5 * time.Second):
					t.Logf("raw confirm to the default exchange: none in 5s")
				}
				q, err := ch.QueueDeclarePassive("crash.proj", true, false, false, false, nil)
				t.Logf("queue: %+v %v", q, err)
				t.Fatal("publishing did not recover within 60s of the restart")
			}
			t.Logf("publishing recovered %v after the restart", recovered.Round(time.Millisecond))
			for range 20 {
				seq++
				if err := publish(seq); err != nil {
					t.Fatalf("after recovery: %v", err)
				}
			}
			// Everything confirmed after the restart reaches the group: the
			// group's queue was declared again before the first publish.
			after := confirmed[len(confirmed)-21:]
			wait.Eventually(t, 20*time.Second, "the confirmed transitions consumed", wait.Bool(func() bool {
				mu.Lock()
				defer mu.Unlock()
				for _, id := range after {
					if !got[id] {
						return false
					}
				}
				return true
			}))
		})
	}
}

// TestBrokerCrashConfirmTracking kills a RabbitMQ node of the test's own
// with SIGKILL while transitions are published from several goroutines
// (like relays, retrying until confirmed), and restarts it. Confirms are
// tracked per channel (delivery tags start again on the new connection's
// channels): no Publish outlives its timeout, every transition is
// eventually confirmed, each confirmed one reaches the group queue, and
// one confirmed at its first attempt reaches it exactly once (a
// duplicate is only allowed after a failed attempt that may have been
// enqueued, or as a redelivery to the consumer).
func TestBrokerCrashConfirmTracking(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a RabbitMQ node")
	}
	node := servers.StartRabbit(t)
	cfg := Config{URL: secret.String(node.URL()), Exchange: "crashc", ServiceName: "crashc", ReplicaID: "r1",
		PublishTimeout: time.Second, Heartbeat: 2 * time.Second}.WithDefaults()
	b := newBus(t, cfg)
	rec := newRecorder()
	if err := b.AddConsumer("proj", []string{"db.health.state_changed.*"}, rec.handle); err != nil {
		t.Fatal(err)
	}
	runBus(t, b)
	wait.Eventually(t, 10*time.Second, "the group queue", wait.Bool(func() bool {
		return b.Publish(context.Background(), changed(t, "redis", "warmup", 1)) == nil
	}))
	time.Sleep(12 * time.Second) // quorum queues settle before a SIGKILL (see above)

	var (
		mu        sync.Mutex
		confirmed = map[string]int{} // id -> attempts it took
		slowest   time.Duration
	)
	stop := startRelays(t, b, 4, 50*time.Millisecond, 20*time.Millisecond,
		func(batch []events.Envelope, attempt int, took time.Duration, err error) {
			mu.Lock()
			defer mu.Unlock()
			slowest = max(slowest, took)
			if err == nil {
				for _, e := range batch {
					confirmed[e.ID] = attempt
				}
			}
		})
	n := func() int { mu.Lock(); defer mu.Unlock(); return len(confirmed) }
	wait.Eventually(t, 20*time.Second, "transitions confirmed before the crash", wait.Bool(func() bool { return n() >= 200 }))
	node.Kill()
	time.Sleep(time.Second)
	node.Start()
	after := n()
	wait.Eventually(t, 60*time.Second, "transitions confirmed after the restart", wait.Bool(func() bool { return n() >= after+300 }))
	stop()

	mu.Lock()
	defer mu.Unlock()
	if slowest > cfg.PublishTimeout+2*time.Second {
		t.Errorf("the slowest Publish took %v; PublishTimeout is %v", slowest, cfg.PublishTimeout)
	}
	wait.Eventually(t, 60*time.Second, "every confirmed transition consumed", wait.Bool(consumedAll(rec, confirmed)))
	time.Sleep(time.Second) // late duplicates
	got := rec.idSet()
	dups, retried := 0, 0
	for id, attempts := range confirmed {
		if attempts > 1 {
			retried++
		}
		if got[id] > 1 {
			dups++
			rec.mu.Lock()
			redelivered := rec.dels[id].Redelivered
			rec.mu.Unlock()
			if attempts == 1 && !redelivered { // a redelivery is the consumer's at-least-once
				t.Errorf("transition %s confirmed at its first attempt consumed %d times", id, got[id])
			}
		}
	}
	t.Logf("%d transitions confirmed (%d after a failed attempt), %d consumed more than once; slowest Publish %v",
		len(confirmed), retried, dups, slowest.Round(time.Millisecond))
}
