package bus

import (
	"context"
	"errors"
	"log/slog"
	"math"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/message/router/middleware"

	"github.com/dbhealth/database-service/events"
)

// Handler handles one event of a consumer group. Delivery is at least once:
// a handler must be idempotent. An error wrapping events.ErrInvalid (the
// event cannot be understood) or a panic sends the message to the poison
// queue at once. Any other error is transient (a store or network
// failure): the delivery is retried in process with backoff, capped at
// Config.RetryMaxInterval, for as long as it takes; the group's queue has
// one active consumer, so its consumption pauses meanwhile and nothing
// behind it overtakes it. Stopping requeues it.
type Handler func(ctx context.Context, e events.Envelope) error

// poisonous reports whether a handler error condemns its message: an
// invalid event or a panic. Everything else is retried.
func poisonous(err error) bool {
	var p middleware.RecoveredPanicError
	return errors.Is(err, events.ErrInvalid) || errors.As(err, &p)
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
	poison, err := middleware.PoisonQueueWithFilter(b.poisonPub, b.cfg.PoisonQueue(), poisonous)
	if err != nil {
		return nil, err
	}
	router.AddMiddleware(
		b.observe,
		middleware.CorrelationID,
		poison,
		middleware.Retry{
			// As many as it takes: a transient failure is never a reason
			// to give an event up (the stop of the router ends them).
			MaxRetries:          math.MaxInt32,
			InitialInterval:     b.cfg.RetryInterval,
			MaxInterval:         b.cfg.RetryMaxInterval,
			Multiplier:          2,
			RandomizationFactor: 0.2,
			ResetContextOnRetry: true,
			OnRetryHook: func(n int, delay time.Duration) {
				if n == 1 || n%10 == 0 {
					b.log.Warn("bus handler failing; retrying", "attempt", n, "retry_in", delay)
				}
			},
			ShouldRetry: func(p middleware.RetryParams) bool {
				return !poisonous(p.Err) && !errors.Is(p.Err, context.Canceled)
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
