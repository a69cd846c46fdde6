//go:build e2e

package e2e

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/events/bus"
	"github.com/dbhealth/database-service/testsupport/wait"
)

// observer is a downstream service: a durable queue of its own bound to
// db.health.#, consumed with manual acks, declared again (with the
// service's base topology, so it can bind) on every reconnect.
type observer struct {
	url, exchange, queue string
	cfg                  bus.Config

	mu sync.Mutex
	// changed are the first deliveries of each transition, in order.
	changed []events.StateChanged
	// deliveries counts deliveries by event id.
	deliveries map[string]int
	// failing is when a failing check of each target was first seen.
	failing map[string]time.Time
	// binds counts (re)declarations of the queue.
	binds int
	bad   int
}

// startObserver binds a queue to exchange on the broker at url and
// consumes it until the test ends; it returns once the queue is bound.
func startObserver(t *testing.T, url, exchange, service string) *observer {
	t.Helper()
	o := &observer{
		url: url, exchange: exchange, queue: service + ".e2e-observer",
		cfg:        bus.Config{Exchange: exchange, ServiceName: service},
		deliveries: map[string]int{}, failing: map[string]time.Time{},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			if err := o.session(ctx); err != nil && ctx.Err() == nil {
				time.Sleep(100 * time.Millisecond)
			}
		}
	}()
	t.Cleanup(func() { cancel(); <-done })
	o.waitBound(t, 1)
	return o
}

// waitBound waits until the queue has been declared n times in all.
func (o *observer) waitBound(t *testing.T, n int) {
	t.Helper()
	wait.Eventually(t, 90*time.Second, "the observer's queue bound", func() (bool, string) {
		o.mu.Lock()
		defer o.mu.Unlock()
		return o.binds >= n, fmt.Sprintf("%d of %d", o.binds, n)
	})
}

// bindCount is how many times the queue has been declared.
func (o *observer) bindCount() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.binds
}

// session is one connection: declare, bind, consume until it breaks.
func (o *observer) session(ctx context.Context) error {
	conn, err := amqp.DialConfig(o.url, amqp.Config{Dial: amqp.DefaultDial(2 * time.Second), Heartbeat: 2 * time.Second})
	if err != nil {
		return err
	}
	defer conn.Close()
	ch, err := conn.Channel()
	if err != nil {
		return err
	}
	if err := bus.DeclareTopology(ch, o.cfg); err != nil {
		return err
	}
	if _, err := ch.QueueDeclare(o.queue, true, false, false, false, nil); err != nil {
		return err
	}
	if err := ch.QueueBind(o.queue, "db.health.#", o.exchange, false, nil); err != nil {
		return err
	}
	if err := ch.Qos(256, 0, false); err != nil {
		return err
	}
	deliveries, err := ch.Consume(o.queue, "", false, false, false, false, nil)
	if err != nil {
		return err
	}
	o.mu.Lock()
	o.binds++
	o.mu.Unlock()
	for {
		select {
		case <-ctx.Done():
			return nil
		case d, ok := <-deliveries:
			if !ok {
				return fmt.Errorf("deliveries closed")
			}
			o.take(d.Body)
			if err := d.Ack(false); err != nil {
				return err
			}
		}
	}
}

// take records one event.
func (o *observer) take(body []byte) {
	e, err := events.Decode(body)
	o.mu.Lock()
	defer o.mu.Unlock()
	if err != nil {
		o.bad++
		return
	}
	switch e.Type {
	case events.TypeStateChanged:
		s, err := e.StateChanged()
		if err != nil {
			o.bad++
			return
		}
		o.deliveries[e.ID]++
		if o.deliveries[e.ID] == 1 {
			o.changed = append(o.changed, s)
		}
	case events.TypeHealthChecked:
		h, err := e.HealthChecked()
		if err != nil {
			o.bad++
			return
		}
		if h.State != "UP" {
			if _, ok := o.failing[h.Target.Subject()]; !ok {
				o.failing[h.Target.Subject()] = time.Now()
			}
		}
	}
}

// chain is the transitions of a target, in the order first received.
func (o *observer) chain(subject string) []events.StateChanged {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []events.StateChanged
	for _, s := range o.changed {
		if s.Target.Subject() == subject {
			out = append(out, s)
		}
	}
	return out
}

// counts are the distinct transitions, all their deliveries and the
// undecodable messages.
func (o *observer) counts() (transitions, deliveries, bad int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	for _, n := range o.deliveries {
		deliveries += n
	}
	return len(o.changed), deliveries, o.bad
}

// failingSince is when a failing check of subject was first seen (zero if never).
func (o *observer) failingSince(subject string) time.Time {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.failing[subject]
}

// resetFailing forgets the failing checks seen so far.
func (o *observer) resetFailing() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.failing = map[string]time.Time{}
}
