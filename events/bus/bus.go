package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

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

// New builds a bus. With Config.URL set it starts connecting to RabbitMQ
// in the background and returns at once: a broker that is down at
// start-up is retried with backoff, Check reports it meanwhile and
// publishing waits for it (within PublishTimeout). Every new publishing
// connection declares the whole topology (DeclareTopology: exchanges,
// poison and unrouted queues, and every shared group's queue added so
// far) before anything is published on it, so a broker that restarted
// without its definitions never routes an event past a missing group
// queue. With an empty URL it builds the embedded bus. logger may be nil.
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
		b.connect()
		log.Info("bus connecting", "transport", "amqp", "url", RedactURL(cfg.URL), "exchange", cfg.Exchange)
	}
	for range cfg.AsyncWorkers {
		b.asyncWG.Add(1)
		go b.asyncWorker()
	}
	return b, nil
}

// connect starts the publishing connection and the publishers.
func (b *Bus) connect() {
	cfg := b.cfg
	b.pubConn = newConnection(cfg.URL, cfg.ServiceName+"/"+cfg.ReplicaID+"/publish", cfg.Heartbeat, b.log,
		func() { b.metrics.reconnects.WithLabelValues("publish").Inc() })
	b.pubConn.onConnect = func(conn *amqp.Connection) error {
		ch, err := conn.Channel()
		if err != nil {
			return err
		}
		defer ch.Close()
		return b.declareTopology(ch)
	}
	b.pubConn.start()
	b.pub = newAMQPPublisher(b.pubConn, cfg.ChannelPoolSize, b.declareTopology, b.log)
	b.send = b.pub.publish
	b.poisonPub = poisonPublisher{b}
}

// declareTopology declares the base topology and every shared group's
// queue registered so far.
func (b *Bus) declareTopology(ch *amqp.Channel) error {
	b.mu.Lock()
	var groups []Group
	for _, c := range b.consumers {
		if !c.group.PerReplica {
			groups = append(groups, c.group)
		}
	}
	b.mu.Unlock()
	return DeclareTopology(ch, b.cfg, groups...)
}

// WaitConnected waits until the publishing connection is up (at once for
// the embedded bus) or ctx ends; its error then says why (the last dial
// error, scrubbed of the password).
func (b *Bus) WaitConnected(ctx context.Context) error {
	if b.emb != nil {
		return nil
	}
	if _, err := b.pubConn.get(ctx); err != nil {
		if last := b.pubConn.lastError(); last != nil {
			return fmt.Errorf("bus: connect to %s: %w (last dial error: %w)", RedactURL(b.cfg.URL), err, last)
		}
		return fmt.Errorf("bus: connect to %s: %w", RedactURL(b.cfg.URL), err)
	}
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
		if last := b.pubConn.lastError(); last != nil && errors.Is(err, ErrDisconnected) {
			return fmt.Errorf("publish connection: %w (last dial error: %w)", err, last)
		}
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
