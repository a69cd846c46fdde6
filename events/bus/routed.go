package bus

import (
	"context"
	"errors"
	"fmt"
	"slices"

	amqp "github.com/rabbitmq/amqp091-go"
)

// A mandatory message is only returned when no queue at all takes it, and
// the main exchange's alternate exchange and every replica's own live
// queue take transitions too: a transition published while the shared
// group queues are missing (deleted from the broker while the connections
// stay up) would be confirmed, acknowledged in the outbox and never
// projected. So once the transitions of a Publish are confirmed, the
// durable group queues that bind their routing keys are checked (passive
// declarations); when one is missing, the transitions that had to reach
// it fail with ErrUnroutable and the topology is declared again. Checking
// after the confirm, not before, also catches a queue deleted while the
// message was in flight; a queue deleted and declared again within that
// round trip is the window left. Transitions are few (the relay publishes
// them in batches), so the check costs one round trip per group queue per
// batch; best-effort checks are never checked.

// verifyRouted fails, in errs, the confirmed mandatory messages of msgs
// whose group queues are missing.
func (b *Bus) verifyRouted(ctx context.Context, msgs []*outgoing, errs []error) {
	if b.pub == nil {
		return
	}
	need := make([][]string, len(msgs))
	var all []string
	for i, m := range msgs {
		if errs[i] != nil || !m.mandatory {
			continue
		}
		need[i] = b.groupQueues(m.key)
		for _, q := range need[i] {
			if !slices.Contains(all, q) {
				all = append(all, q)
			}
		}
	}
	if len(all) == 0 {
		return
	}
	var missing []string
	err := detached(ctx, func() error {
		var err error
		missing, err = b.pub.missingQueues(ctx, all)
		return err
	})
	if err != nil {
		for i := range msgs {
			if len(need[i]) > 0 {
				errs[i] = fmt.Errorf("%w: checking its group queues: %w", ErrNotConfirmed, err)
			}
		}
		return
	}
	if len(missing) == 0 {
		return
	}
	var first error
	for i := range msgs {
		for _, q := range need[i] {
			if slices.Contains(missing, q) {
				errs[i] = fmt.Errorf("%w: group queue %s missing", ErrUnroutable, q)
				if first == nil {
					first = errs[i]
				}
				break
			}
		}
	}
	_ = detached(ctx, func() error {
		b.pub.redeclare(ctx, "bus group queue missing, declaring the topology again", first)
		return nil
	})
}

// detached runs f on a goroutine of its own and waits for it until ctx
// ends: f talks to the broker, which may stop answering (amqp091's calls
// take no context), and a publish must not outlive its deadline. What f
// sets must be read only when detached returned nil.
func detached(ctx context.Context, f func() error) error {
	done := make(chan error, 1)
	go func() { done <- f() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return context.Cause(ctx)
	}
}

// groupQueues are the shared (durable) group queues bound to key.
func (b *Bus) groupQueues(key string) []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	var out []string
	for _, c := range b.consumers {
		if c.group.PerReplica {
			continue
		}
		if slices.ContainsFunc(c.group.keys(), func(p string) bool { return Match(p, key) }) {
			out = append(out, b.cfg.QueueName(c.group.Name))
		}
	}
	return out
}

// missingQueues are those of queues the broker does not have. A passive
// declaration of a missing queue closes its channel: one channel is
// opened again after each.
func (p *amqpPublisher) missingQueues(ctx context.Context, queues []string) ([]string, error) {
	var missing []string
	var ch *amqp.Channel
	defer func() {
		if ch != nil {
			_ = ch.Close()
		}
	}()
	for _, q := range queues {
		if ch == nil {
			var err error
			if ch, err = p.conn.channel(ctx); err != nil {
				return nil, err
			}
		}
		_, err := ch.QueueDeclarePassive(q, true, false, false, false, nil)
		var aerr *amqp.Error
		switch {
		case err == nil:
		case errors.As(err, &aerr) && aerr.Code == amqp.NotFound:
			missing = append(missing, q)
			ch = nil // closed by the broker
		default:
			return nil, err
		}
	}
	return missing, nil
}
