package bus

import (
	"fmt"
	"slices"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Bounds of the catch-all queues, so that a forgotten binding or a flood of
// poison cannot fill the broker's disk: the oldest messages are dropped first.
const (
	UnroutedMaxLength     = 100_000
	PoisonMaxLength       = 100_000
	ReplicaQueueMaxLength = 10_000
)

// Group is a consumer group: its name (queue "<ServiceName>.<Name>") and
// the binding keys of its queue. A PerReplica group gets a transient queue
// per replica ("<ServiceName>.<Name>.<ReplicaID>", exclusive, auto-delete),
// so every replica sees every matching event (for SSE streams, caches);
// otherwise one durable queue is shared by all replicas.
type Group struct {
	Name       string
	Bindings   []string
	PerReplica bool
	// Checks selects a classic queue for best-effort HealthChecked
	// events (see AddCheckConsumer).
	Checks bool
	// extra holds the bindings BindReplica added while running.
	extra *extraBindings
}

// extraBindings are bindings added to a per-replica group while it runs.
type extraBindings struct {
	mu   sync.Mutex
	keys []string
}

// keys are the group's bindings: Bindings plus those added at run time.
func (g Group) keys() []string {
	if g.extra == nil {
		return g.Bindings
	}
	g.extra.mu.Lock()
	defer g.extra.mu.Unlock()
	return append(slices.Clone(g.Bindings), g.extra.keys...)
}

// DeclareTopology declares, idempotently, the exchanges and queues of cfg
// and of the given groups (see the package documentation). A declaration
// that conflicts with an existing entity closes ch: use a fresh channel for
// each call. Per-replica queues are exclusive to ch's connection.
func DeclareTopology(ch *amqp.Channel, cfg Config, groups ...Group) error {
	cfg = cfg.WithDefaults()
	if err := declareBase(ch, cfg); err != nil {
		return err
	}
	for _, g := range groups {
		if err := declareGroup(ch, cfg, g); err != nil {
			return err
		}
	}
	return nil
}

// declareBase declares the main, alternate and dead-letter exchanges and
// the unrouted and poison queues.
func declareBase(ch *amqp.Channel, cfg Config) error {
	unrouted, dlx, poison := cfg.UnroutedExchange(), cfg.DeadLetterExchange(), cfg.PoisonQueue()
	steps := []struct {
		what string
		do   func() error
	}{
		{"exchange " + unrouted, func() error { return declareFanout(ch, unrouted) }},
		{"queue " + unrouted, func() error { return declareCatchAll(ch, unrouted, UnroutedMaxLength) }},
		{"binding " + unrouted, func() error { return ch.QueueBind(unrouted, "", unrouted, false, nil) }},
		{"exchange " + cfg.Exchange, func() error {
			return ch.ExchangeDeclare(cfg.Exchange, amqp.ExchangeTopic, true, false, false, false,
				amqp.Table{"alternate-exchange": unrouted})
		}},
		{"exchange " + dlx, func() error { return declareFanout(ch, dlx) }},
		{"queue " + poison, func() error { return declareCatchAll(ch, poison, PoisonMaxLength) }},
		{"binding " + poison, func() error { return ch.QueueBind(poison, "", dlx, false, nil) }},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			return fmt.Errorf("bus: declare %s: %w", s.what, err)
		}
	}
	return nil
}

// declareFanout declares a durable fanout exchange.
func declareFanout(ch *amqp.Channel, name string) error {
	return ch.ExchangeDeclare(name, amqp.ExchangeFanout, true, false, false, false, nil)
}

// declareCatchAll declares a durable quorum queue of at most maxLen
// messages (the unrouted or the poison queue).
func declareCatchAll(ch *amqp.Channel, name string, maxLen int) error {
	_, err := ch.QueueDeclare(name, true, false, false, false, amqp.Table{
		amqp.QueueTypeArg: amqp.QueueTypeQuorum, amqp.QueueMaxLenArg: maxLen,
	})
	return err
}

// declareGroup declares a group's queue and binds it with its keys.
func declareGroup(ch *amqp.Channel, cfg Config, g Group) error {
	var name string
	var err error
	if g.PerReplica {
		name = cfg.ReplicaQueueName(g.Name)
		_, err = ch.QueueDeclare(name, false, true, true, false, amqp.Table{
			amqp.QueueMaxLenArg: ReplicaQueueMaxLength, amqp.QueueOverflowArg: amqp.QueueOverflowDropHead,
		})
	} else {
		name = cfg.QueueName(g.Name)
		args := groupQueueArgs(cfg)
		if g.Checks {
			args = checkQueueArgs(cfg)
		}
		_, err = ch.QueueDeclare(name, true, false, false, false, args)
	}
	if err != nil {
		return fmt.Errorf("bus: declare queue %s: %w", name, err)
	}
	for _, key := range g.keys() {
		if err := ch.QueueBind(name, key, cfg.Exchange, false, nil); err != nil {
			return fmt.Errorf("bus: bind queue %s to %s with %q: %w", name, cfg.Exchange, key, err)
		}
	}
	return nil
}

// checkQueueArgs are the arguments of a check group's queue: classic (no
// per-message fsync or replication for best-effort, superseded events),
// one active consumer (events in order), bounded, dead-lettering poison.
func checkQueueArgs(cfg Config) amqp.Table {
	return amqp.Table{
		amqp.QueueTypeArg:            amqp.QueueTypeClassic,
		amqp.SingleActiveConsumerArg: true,
		amqp.QueueMaxLenArg:          CheckQueueMaxLength,
		amqp.QueueOverflowArg:        amqp.QueueOverflowRejectPublish,
		"x-dead-letter-exchange":     cfg.DeadLetterExchange(),
	}
}

// groupQueueArgs are the arguments of a shared group queue. Changing them
// for an existing queue makes its declaration fail (PRECONDITION_FAILED):
// the queue must then be deleted or migrated by hand.
func groupQueueArgs(cfg Config) amqp.Table {
	return amqp.Table{
		amqp.QueueTypeArg:            amqp.QueueTypeQuorum,
		amqp.SingleActiveConsumerArg: true,
		"x-delivery-limit":           cfg.DeliveryLimit,
		"x-dead-letter-exchange":     cfg.DeadLetterExchange(),
	}
}
