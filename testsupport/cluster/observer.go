package cluster

import (
	"sync"

	"github.com/dbhealth/database-service/events"
	amqp "github.com/rabbitmq/amqp091-go"
)

// Observer is a downstream consumer bound to db.health.# on the cluster's
// exchange, as the README tells other services to bind.
type Observer struct {
	mu      sync.Mutex
	checked []events.HealthChecked
	changed []events.StateChanged
	ids     map[string]int
	bad     int
}

// Observe binds a fresh exclusive queue to binding on the exchange and
// records every event it receives, counting each event id.
func (c *Cluster) Observe(binding string) *Observer {
	c.t.Helper()
	conn, err := amqp.Dial(RabbitMQ.URL())
	if err != nil {
		c.t.Fatal(err)
	}
	c.t.Cleanup(func() { _ = conn.Close() })
	ch, err := conn.Channel()
	if err != nil {
		c.t.Fatal(err)
	}
	q, err := ch.QueueDeclare("", false, true, true, false, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	if err := ch.QueueBind(q.Name, binding, c.Exchange, false, nil); err != nil {
		c.t.Fatal(err)
	}
	deliveries, err := ch.Consume(q.Name, "", true, true, false, false, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	o := &Observer{ids: map[string]int{}}
	go func() {
		for d := range deliveries {
			e, err := events.Decode(d.Body)
			o.mu.Lock()
			if err != nil || d.MessageId != e.ID || d.Type != e.Type {
				o.bad++
				o.mu.Unlock()
				continue
			}
			o.ids[e.ID]++
			switch e.Type {
			case events.TypeHealthChecked:
				h, _ := e.HealthChecked()
				o.checked = append(o.checked, h)
			case events.TypeStateChanged:
				s, _ := e.StateChanged()
				if o.ids[e.ID] == 1 {
					o.changed = append(o.changed, s)
				}
			}
			o.mu.Unlock()
		}
	}()
	return o
}

// Snapshot is what the observer has received: the checks, the first copy
// of each transition, how often each event id arrived, and how many
// messages were malformed.
func (o *Observer) Snapshot() ([]events.HealthChecked, []events.StateChanged, map[string]int, int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	ids := make(map[string]int, len(o.ids))
	for k, v := range o.ids {
		ids[k] = v
	}
	return append([]events.HealthChecked(nil), o.checked...), append([]events.StateChanged(nil), o.changed...), ids, o.bad
}
