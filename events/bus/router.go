package bus

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/dbhealth/database-service/events"
)

// Handler handles one event of a consumer group. Delivery is at least once:
// a handler must be idempotent. An error wrapping events.ErrInvalid sends
// the message to the poison queue at once; another error is retried in
// process (Config.MaxRetries) and then poisoned, or requeued when wrapped
// with Requeue.
type Handler func(ctx context.Context, e events.Envelope) error

// requeueError marks an error whose message should go back to the queue.
type requeueError struct{ err error }

func (r requeueError) Error() string { return r.err.Error() }
func (r requeueError) Unwrap() error { return r.err }

// Requeue marks a transient handler error (its store is unreachable, say):
// after the in-process retries the delivery is returned to the queue instead
// of being poisoned, and the broker dead-letters it to the poison queue once
// it was delivered Config.DeliveryLimit times. Requeue(nil) is nil.
func Requeue(err error) error {
	if err == nil {
		return nil
	}
	return requeueError{err}
}

func isRequeue(err error) bool {
	var r requeueError
	return errors.As(err, &r)
}

type consumer struct {
	group   Group
	handler Handler
	sub     message.Subscriber // nil for a check group
	checks  CheckHandler       // set for a check group
}

// newRouter builds the watermill router of the consumers. Middlewares, the
// first outermost: metrics, CorrelationID, PoisonQueue, Retry, Timeout,
// Recoverer; the handler decodes the event (empty deliveries ignored).
func (b *Bus) newRouter(consumers []consumer) (*message.Router, error) {
	router, err := message.NewRouter(message.RouterConfig{CloseTimeout: b.cfg.HandlerTimeout}, b.wmLogger)
	if err != nil {
		return nil, err
	}
	poison, err := middleware.PoisonQueueWithFilter(b.poisonPub, b.cfg.PoisonQueue(), func(err error) bool {
		return !isRequeue(err) && !errors.Is(err, context.Canceled)
	})
	if err != nil {
		return nil, err
	}
	retries := max(b.cfg.MaxRetries, 0)
	router.AddMiddleware(
		b.observe,
		middleware.CorrelationID,
		poison,
		middleware.Retry{
			MaxRetries:          retries,
			InitialInterval:     b.cfg.RetryInterval,
			MaxInterval:         10 * b.cfg.RetryInterval,
			Multiplier:          2,
			RandomizationFactor: 0.2,
			ResetContextOnRetry: true,
			ShouldRetry: func(p middleware.RetryParams) bool {
				return !errors.Is(p.Err, events.ErrInvalid) && !errors.Is(p.Err, context.Canceled)
			},
		}.Middleware,
		middleware.Timeout(b.cfg.HandlerTimeout),
		middleware.Recoverer,
	)
	for _, c := range consumers {
		if c.checks != nil {
			continue
		}
		router.AddConsumerHandler(c.group.Name, b.cfg.QueueName(c.group.Name), c.sub, adapt(c.group.Name, c.handler))
	}
	return router, nil
}

// adapt decodes the message and calls h with its Delivery in the context.
func adapt(group string, h Handler) message.NoPublishHandlerFunc {
	return func(msg *message.Message) error {
		if msg.UUID == "" && len(msg.Payload) == 0 {
			return nil // empty delivery of a cancelled consumer
		}
		if err := undecodable(msg); err != nil {
			return err
		}
		env, err := events.Decode(msg.Payload)
		if err != nil {
			return err
		}
		ctx := context.WithValue(msg.Context(), deliveryKey{}, deliveryOf(group, msg))
		return h(ctx, env)
	}
}

// observe is the outermost middleware: metrics and the log line of a
// poisoned or requeued event.
func (b *Bus) observe(h message.HandlerFunc) message.HandlerFunc {
	return func(msg *message.Message) ([]*message.Message, error) {
		group := message.HandlerNameFromCtx(msg.Context())
		start := time.Now()
		out, err := h(msg)
		b.metrics.duration.WithLabelValues(group).Observe(time.Since(start).Seconds())
		switch {
		case err != nil && errors.Is(err, context.Canceled):
			// stopping: the delivery is requeued, nothing failed
		case err != nil:
			b.metrics.failed.WithLabelValues(group, "requeued").Inc()
			b.log.Warn("bus event requeued", "group", group, "id", msg.UUID, "err", err)
		case msg.Metadata.Get(middleware.ReasonForPoisonedKey) != "":
			b.metrics.failed.WithLabelValues(group, "poisoned").Inc()
			b.log.Error("bus event poisoned", "group", group, "id", msg.UUID,
				"routing_key", msg.Metadata.Get(MetaRoutingKey), "reason", msg.Metadata.Get(middleware.ReasonForPoisonedKey))
		case msg.UUID == "" && len(msg.Payload) == 0:
		default:
			b.metrics.consumed.WithLabelValues(group, typeLabel(msg.Metadata.Get(MetaType))).Inc()
		}
		return out, err
	}
}

// typeLabel bounds the label values to the known event types.
func typeLabel(t string) string {
	for _, known := range events.Types {
		if t == known {
			return t
		}
	}
	return "other"
}

// watermillLogger bridges watermill's logs to slog. Watermill's Info lines
// (handler started, no subscribers) are Debug here, and a disabled level
// costs nothing: watermill's own slog adapter builds every Trace line's
// attributes (a measurable share of the CPU per message) before slog
// drops it.
func watermillLogger(log *slog.Logger) watermill.LoggerAdapter { return wmLogger{log} }

type wmLogger struct{ l *slog.Logger }

func (w wmLogger) Error(msg string, err error, fields watermill.LogFields) {
	w.log(slog.LevelError, msg, fields, err)
}
func (w wmLogger) Info(msg string, fields watermill.LogFields) {
	w.log(slog.LevelDebug, msg, fields, nil)
}
func (w wmLogger) Debug(msg string, fields watermill.LogFields) {
	w.log(slog.LevelDebug, msg, fields, nil)
}
func (w wmLogger) Trace(msg string, fields watermill.LogFields) {
	w.log(watermill.LevelTrace, msg, fields, nil)
}

func (w wmLogger) With(fields watermill.LogFields) watermill.LoggerAdapter {
	return wmLogger{w.l.With(attrs(fields, nil)...)}
}

func (w wmLogger) log(level slog.Level, msg string, fields watermill.LogFields, err error) {
	ctx := context.Background()
	if !w.l.Enabled(ctx, level) {
		return
	}
	w.l.Log(ctx, level, msg, attrs(fields, err)...)
}

func attrs(fields watermill.LogFields, err error) []any {
	out := make([]any, 0, 2*len(fields)+2)
	for k, v := range fields {
		out = append(out, k, v)
	}
	if err != nil {
		out = append(out, "err", err)
	}
	return out
}
