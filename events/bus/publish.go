package bus

import (
	"context"
	"errors"
	"fmt"

	"github.com/ThreeDotsLabs/watermill/message"

	"github.com/dbhealth/database-service/events"
)

// Publish publishes the events and waits until the broker confirmed every
// one of them, at most Config.PublishTimeout (or until ctx ends). Events
// about one subject keep their order. A failed message is retried once
// within that time; the error then says how many were not confirmed and
// wraps the first cause (ErrTimeout, ErrNotConfirmed, ErrBlocked while the
// broker has a resource alarm, ErrClosed, a connection error). Unconfirmed messages may still have been enqueued.
func (b *Bus) Publish(ctx context.Context, envs ...events.Envelope) error {
	if len(envs) == 0 {
		return nil
	}
	if b.isClosing() {
		return ErrClosed
	}
	msgs := make([]*outgoing, len(envs))
	for i, e := range envs {
		o, err := toOutgoing(b.marshaler, b.cfg.Exchange, b.cfg.ServiceName, e)
		if err != nil {
			return err
		}
		msgs[i] = o
	}
	ctx, cancel := context.WithTimeoutCause(ctx, b.cfg.PublishTimeout, ErrTimeout)
	defer cancel()
	errs, again := b.publishRetry(ctx, msgs)
	for _, i := range again {
		b.metrics.republished.WithLabelValues(typeLabel(envs[i].Type)).Inc()
	}
	b.verifyRouted(ctx, msgs, errs)
	failed := 0
	var first error
	for i, err := range errs {
		typ := typeLabel(envs[i].Type)
		if err == nil {
			b.metrics.published.WithLabelValues(typ).Inc()
			continue
		}
		b.metrics.publishFailed.WithLabelValues(typ).Inc()
		failed++
		if first == nil {
			first = err
		}
	}
	if failed > 0 {
		return fmt.Errorf("bus: %d of %d events not published: %w", failed, len(envs), first)
	}
	return nil
}

// publishRetry sends msgs and sends the failed ones once more while ctx
// lasts (a connection drop fails the messages in flight; the retry goes
// out on a fresh channel). Unroutable transitions are not retried here:
// their publish fails, they stay in the outbox and the relay publishes
// them again once the topology was declared again.
// It also returns the indexes of the messages sent twice.
func (b *Bus) publishRetry(ctx context.Context, msgs []*outgoing) ([]error, []int) {
	return b.publishRetryWith(ctx, b.send, msgs)
}

// publishRetryWith is publishRetry over send.
func (b *Bus) publishRetryWith(ctx context.Context, send func(context.Context, []*outgoing) []error, msgs []*outgoing) ([]error, []int) {
	errs := send(ctx, msgs)
	var again []int
	for i, err := range errs {
		if err != nil && ctx.Err() == nil && !errors.Is(err, ErrClosed) && !errors.Is(err, ErrBlocked) && !errors.Is(err, ErrUnroutable) {
			again = append(again, i)
		}
	}
	if len(again) == 0 {
		return errs, nil
	}
	retry := make([]*outgoing, len(again))
	for j, i := range again {
		retry[j] = msgs[i]
	}
	for j, err := range send(ctx, retry) {
		errs[again[j]] = err
	}
	return errs, again
}

// poisonPublisher sends poisoned messages to the dead-letter exchange,
// which routes them to the poison queue.
type poisonPublisher struct{ b *Bus }

func (p poisonPublisher) Publish(_ string, msgs ...*message.Message) error {
	out := make([]*outgoing, len(msgs))
	for i, m := range msgs {
		pub, err := toPoisonPublishing(p.b.marshaler, m)
		if err != nil {
			return fmt.Errorf("bus: marshal poisoned message %s: %w", m.UUID, err)
		}
		out[i] = &outgoing{
			exchange: p.b.cfg.DeadLetterExchange(),
			key:      m.Metadata.Get(MetaRoutingKey),
			subject:  m.UUID,
			msg:      pub,
		}
	}
	ctx, cancel := context.WithTimeoutCause(context.Background(), p.b.cfg.PublishTimeout, ErrTimeout)
	defer cancel()
	return errors.Join(p.b.pub.publish(ctx, out)...)
}

func (p poisonPublisher) Close() error { return nil }
