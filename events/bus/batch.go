package bus

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dbhealth/database-service/events"
)

// CheckHandler projects a batch of HealthChecked events, in queue order.
// poison lists the indices of events it cannot place (they are
// dead-lettered to the poison queue); a non-nil err is a transient
// failure (its store is unreachable): the whole batch goes back to the
// queue and consumption pauses before it is tried again.
type CheckHandler func(ctx context.Context, hs []events.HealthChecked) (poison []int, err error)

// Batching of check consumers.
const (
	// CheckBatch is the most deliveries handed to a CheckHandler at once.
	CheckBatch = 256
	// CheckBatchWait is how long a batch waits to fill after its first
	// delivery.
	CheckBatchWait = 20 * time.Millisecond
	// CheckPrefetch is the prefetch of a check consumer.
	CheckPrefetch = 4 * CheckBatch
	// CheckQueueMaxLength bounds a check queue; publishing into a full one
	// is refused (and counted as dropped by the publisher): checks are
	// superseded by the next ones.
	CheckQueueMaxLength = 100_000
)

// Pauses of a check consumer after a transient failure.
const (
	checkPauseMin = 250 * time.Millisecond
	checkPauseMax = 15 * time.Second
)

// AddCheckConsumer registers h for the check group: a durable classic
// queue "<ServiceName>.<group>" (HealthChecked is best effort and
// superseded by the next check, so it is neither fsynced per message nor
// replicated), single active consumer so events keep their order, bound
// with bindings. Deliveries are handed to h in batches of up to
// CheckBatch (or what arrived within CheckBatchWait), each decoded once,
// and acknowledged with one multiple ack after h returned: at least once.
// It needs RabbitMQ: in standalone mode the store projects checks itself.
func (b *Bus) AddCheckConsumer(group string, bindings []string, h CheckHandler) error {
	if b.emb != nil {
		return fmt.Errorf("%w: check consumers need RabbitMQ (BUS_URL)", ErrConfig)
	}
	if h == nil {
		return fmt.Errorf("%w: group %q needs a handler", ErrConfig, group)
	}
	return b.addConsumer(Group{Name: group, Bindings: bindings, Checks: true}, nil, h)
}

// checkConsumer is the batch loop of one check group.
type checkConsumer struct {
	b     *Bus
	group Group
	queue string
	h     CheckHandler
}

// run consumes until ctx ends, resubscribing with backoff.
func (c *checkConsumer) run(ctx context.Context) {
	log := c.b.log.With("group", c.group.Name, "queue", c.queue)
	backoff := 100 * time.Millisecond
	for first := true; ctx.Err() == nil; first = false {
		if !first {
			c.b.metrics.reconnects.WithLabelValues("subscription").Inc()
		}
		start := time.Now()
		err := c.consume(ctx)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > 10*time.Second {
			backoff = 100 * time.Millisecond
		}
		log.Warn("bus consumer stopped, resubscribing", "err", err, "retry_in", backoff)
		if sleep(ctx, backoff/2+rand.N(backoff/2+1)) != nil {
			return
		}
		backoff = min(backoff*2, 5*time.Second)
	}
}

// consume runs one subscription until its channel or consumer ends.
func (c *checkConsumer) consume(ctx context.Context) error {
	ch, err := c.b.consConn.channel(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = ch.Close() }()
	if err := ch.Qos(CheckPrefetch, 0, false); err != nil {
		return err
	}
	if err := declareGroup(ch, c.b.cfg, c.group); err != nil {
		return err
	}
	deliveries, err := ch.Consume(c.queue, c.b.cfg.ReplicaID+"/"+c.group.Name, false, false, false, false, nil)
	if err != nil {
		return err
	}
	pause := checkPauseMin
	for {
		batch, err := collect(ctx, deliveries)
		if err != nil || len(batch) == 0 {
			return err
		}
		if err := c.handle(ctx, ch, batch); err != nil {
			c.b.log.Warn("bus check batch requeued; pausing", "group", c.group.Name, "events", len(batch), "err", err, "pause", pause)
			if sleep(ctx, pause) != nil {
				return nil
			}
			pause = min(2*pause, checkPauseMax)
			continue
		}
		pause = checkPauseMin
	}
}

// collect waits for one delivery, then takes what else arrives within
// CheckBatchWait, up to CheckBatch. Zero deliveries are skipped.
func collect(ctx context.Context, deliveries <-chan amqp.Delivery) ([]amqp.Delivery, error) {
	var batch []amqp.Delivery
	var timeout <-chan time.Time
	for len(batch) < CheckBatch {
		select {
		case d, ok := <-deliveries:
			if !ok {
				return batch, errCancelled
			}
			if d.Acknowledger == nil {
				continue
			}
			batch = append(batch, d)
			if timeout == nil {
				timeout = time.After(CheckBatchWait)
			}
		case <-timeout:
			return batch, nil
		case <-ctx.Done():
			return nil, nil // unacked deliveries are requeued with the channel
		}
	}
	return batch, nil
}

// handle decodes the batch, hands it to the handler and settles it:
// undecodable or rejected events are dead-lettered, the rest acked at
// once; a transient failure requeues them.
func (c *checkConsumer) handle(ctx context.Context, ch *amqp.Channel, batch []amqp.Delivery) error {
	start := time.Now()
	hs := make([]events.HealthChecked, 0, len(batch))
	tags := make([]uint64, 0, len(batch))
	var poison []uint64
	for _, d := range batch {
		h, err := events.DecodeChecked(d.Body)
		if err != nil {
			c.b.log.Error("bus event poisoned", "group", c.group.Name, "id", d.MessageId, "routing_key", d.RoutingKey, "reason", err.Error())
			poison = append(poison, d.DeliveryTag)
			continue
		}
		hs = append(hs, h)
		tags = append(tags, d.DeliveryTag)
	}
	var rejected []int
	var err error
	if len(hs) > 0 {
		rejected, err = c.h(ctx, hs)
	}
	bad := map[uint64]bool{}
	for _, tag := range poison {
		bad[tag] = true
	}
	for _, i := range rejected {
		if i >= 0 && i < len(tags) && !bad[tags[i]] {
			c.b.log.Error("bus event poisoned", "group", c.group.Name, "id", hs[i].ID(), "reason", "rejected by the projection")
			poison = append(poison, tags[i])
			bad[tags[i]] = true
		}
	}
	// Dead-letter (requeue=false, through the queue's DLX) first; the one
	// multiple ack (or nack) below then settles the rest: everything still
	// outstanding up to the last good tag.
	slices.Sort(poison)
	for _, tag := range poison {
		if nerr := ch.Nack(tag, false, false); nerr != nil {
			return nerr
		}
	}
	c.b.metrics.failed.WithLabelValues(c.group.Name, "poisoned").Add(float64(len(poison)))
	var lastGood uint64
	good := 0
	for _, tag := range tags {
		if !bad[tag] {
			lastGood, good = tag, good+1
		}
	}
	if good == 0 {
		return nil
	}
	if err != nil {
		c.b.metrics.failed.WithLabelValues(c.group.Name, "requeued").Add(float64(good))
		if nerr := ch.Nack(lastGood, true, true); nerr != nil {
			return nerr
		}
		return err
	}
	if aerr := ch.Ack(lastGood, true); aerr != nil {
		return aerr
	}
	c.b.metrics.consumed.WithLabelValues(c.group.Name, events.TypeHealthChecked).Add(float64(good))
	c.b.metrics.duration.WithLabelValues(c.group.Name).Observe(time.Since(start).Seconds() / float64(len(batch)))
	return nil
}

// sleep waits d or until ctx ends (then it returns ctx's error).
func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
