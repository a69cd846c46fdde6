package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
	wamqp "github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	"github.com/ThreeDotsLabs/watermill/message"
	amqp "github.com/rabbitmq/amqp091-go"

	"github.com/dbhealth/database-service/events"
)

// Errors of the Bus API.
var (
	// ErrTimeout is the cause of a publish that was not confirmed within
	// Config.PublishTimeout.
	ErrTimeout = errors.New("bus: publish not confirmed within the publish timeout")
	// ErrRunning is returned by AddConsumer once Run has started.
	ErrRunning = errors.New("bus: consumers must be added before Run")
)

// connectTimeout bounds New's first connection when ctx has no deadline.
const connectTimeout = 30 * time.Second

// Bus publishes events and runs consumer groups, over RabbitMQ or in
// process. Publish, PublishAsync and Check are safe for concurrent use;
// AddConsumer must be called before Run. Run consumes until its context
// ends; Close then releases everything.
type Bus struct {
	cfg      Config
	log      *slog.Logger
	wmLogger watermill.LoggerAdapter
	metrics  *metrics
	// marshaler converts events to AMQP publishings and deliveries to
	// watermill messages (see newMarshaler).
	marshaler wamqp.DefaultMarshaler

	send      func(context.Context, []*outgoing) []error
	poisonPub message.Publisher

	// RabbitMQ transport (nil when embedded)
	pubConn  *connection
	consConn *connection
	pub      *amqpPublisher
	// embedded transport (nil with RabbitMQ)
	emb *embedded

	mu        sync.Mutex
	consumers []consumer
	running   bool
	runWG     sync.WaitGroup

	buf     chan events.Envelope
	asyncWG sync.WaitGroup
	drops   dropLog

	closing   chan struct{}
	closeOnce sync.Once
}

// New builds a bus. With Config.URL set it connects to RabbitMQ (waiting
// until ctx ends, or 30s when ctx has no deadline), declares the topology
// (DeclareTopology) and starts the publishers; with an empty URL it builds
// the embedded bus. logger may be nil.
func New(ctx context.Context, cfg Config, logger *slog.Logger) (*Bus, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	log := logger.With("component", "bus")
	b := &Bus{
		cfg:       cfg,
		log:       log,
		wmLogger:  watermillLogger(log),
		marshaler: newMarshaler(),
		buf:       make(chan events.Envelope, cfg.AsyncBuffer),
		closing:   make(chan struct{}),
	}
	b.drops.log = log
	b.metrics = newMetrics(cfg.Registerer, func() float64 { return float64(len(b.buf)) })

	if cfg.Embedded() {
		b.emb = newEmbedded(cfg, b.wmLogger)
		b.send = b.emb.publish
		b.poisonPub = b.emb.poisonPublisher()
		log.Info("bus ready", "transport", "embedded")
	} else {
		if err := b.connect(ctx); err != nil {
			return nil, err
		}
		log.Info("bus ready", "transport", "amqp", "url", RedactURL(cfg.URL), "exchange", cfg.Exchange)
	}
	for range cfg.AsyncWorkers {
		b.asyncWG.Add(1)
		go b.asyncWorker()
	}
	return b, nil
}

// connect opens the publishing connection and declares the topology.
func (b *Bus) connect(ctx context.Context) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, connectTimeout)
		defer cancel()
	}
	cfg := b.cfg
	b.pubConn = newConnection(cfg.URL, cfg.ServiceName+"/"+cfg.ReplicaID+"/publish", cfg.Heartbeat, b.log,
		func() { b.metrics.reconnects.WithLabelValues("publish").Inc() })
	ch, err := b.pubConn.channel(ctx)
	if err == nil {
		err = DeclareTopology(ch, cfg)
		_ = ch.Close()
	} else if last := b.pubConn.lastError(); last != nil {
		err = fmt.Errorf("%w (last dial error: %w)", err, last)
	}
	if err != nil {
		b.pubConn.close()
		return fmt.Errorf("bus: connect to %s: %w", RedactURL(cfg.URL), scrubError(err, cfg.URL))
	}
	b.pub = newAMQPPublisher(b.pubConn, cfg.ChannelPoolSize,
		func(ch *amqp.Channel) error { return DeclareTopology(ch, cfg) }, b.log)
	b.send = b.pub.publish
	b.poisonPub = poisonPublisher{b}
	return nil
}

// Config returns the bus's configuration with defaults applied.
func (b *Bus) Config() Config { return b.cfg }

// Check reports whether the bus can publish now: nil, ErrDisconnected or
// ErrBlocked (wrapped, naming the connection), or ErrClosed.
func (b *Bus) Check(_ context.Context) error {
	if b.isClosing() {
		return ErrClosed
	}
	if b.emb != nil {
		return nil
	}
	if err := b.pubConn.check(); err != nil {
		return fmt.Errorf("publish connection: %w", err)
	}
	b.mu.Lock()
	cons := b.consConn
	b.mu.Unlock()
	if cons != nil {
		if err := cons.check(); err != nil && !errors.Is(err, ErrBlocked) {
			return fmt.Errorf("consume connection: %w", err)
		}
	}
	return nil
}

// Close stops Run, drains PublishAsync's buffer (for at most
// Config.PublishTimeout) and closes the connections. It is idempotent.
func (b *Bus) Close() error {
	b.closeOnce.Do(func() {
		b.mu.Lock()
		close(b.closing)
		b.mu.Unlock()
		b.runWG.Wait()
		b.asyncWG.Wait()
		if b.emb != nil {
			b.emb.close()
			return
		}
		b.pub.stop()
		if b.consConn != nil {
			b.consConn.close()
		}
		b.pubConn.close()
		b.pub.wait()
		b.log.Info("bus closed")
	})
	return nil
}

func (b *Bus) isClosing() bool {
	select {
	case <-b.closing:
		return true
	default:
		return false
	}
}
