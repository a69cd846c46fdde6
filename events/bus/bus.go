package bus

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/ThreeDotsLabs/watermill"
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
		cfg:      cfg,
		log:      log,
		wmLogger: watermillLogger(log),
		buf:      make(chan events.Envelope, cfg.AsyncBuffer),
		closing:  make(chan struct{}),
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

// Publish publishes the events and waits until the broker confirmed every
// one of them, at most Config.PublishTimeout (or until ctx ends). Events
// about one subject keep their order. A failed message is retried once
// within that time; the error then says how many were not confirmed and
// wraps the first cause (ErrTimeout, ErrNotConfirmed, ErrClosed, a
// connection error). Unconfirmed messages may still have been enqueued.
func (b *Bus) Publish(ctx context.Context, envs ...events.Envelope) error {
	if len(envs) == 0 {
		return nil
	}
	if b.isClosing() {
		return ErrClosed
	}
	msgs := make([]*outgoing, len(envs))
	for i, e := range envs {
		o, err := toOutgoing(b.cfg.Exchange, b.cfg.ServiceName, e)
		if err != nil {
			return err
		}
		msgs[i] = o
	}
	ctx, cancel := context.WithTimeoutCause(ctx, b.cfg.PublishTimeout, ErrTimeout)
	defer cancel()
	errs := b.publishRetry(ctx, msgs)
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
// out on a fresh channel).
func (b *Bus) publishRetry(ctx context.Context, msgs []*outgoing) []error {
	errs := b.send(ctx, msgs)
	var again []int
	for i, err := range errs {
		if err != nil && ctx.Err() == nil && !errors.Is(err, ErrClosed) {
			again = append(again, i)
		}
	}
	if len(again) == 0 {
		return errs
	}
	retry := make([]*outgoing, len(again))
	for j, i := range again {
		retry[j] = msgs[i]
	}
	for j, err := range b.send(ctx, retry) {
		errs[again[j]] = err
	}
	return errs
}

// AddConsumer registers h for the consumer group: one queue
// "<ServiceName>.<group>" shared by all replicas (single active consumer,
// so events are handled in order by one replica at a time), bound with
// bindings (AMQP topic patterns, see Match). With RabbitMQ the queue is
// declared at once, so events published from now on are kept for the
// group even before Run starts. Call it before Run.
func (b *Bus) AddConsumer(group string, bindings []string, h Handler) error {
	return b.addConsumer(Group{Name: group, Bindings: bindings}, h)
}

// AddReplicaConsumer registers h for a group that every replica receives
// in full (a transient queue per replica, dropped with its connection):
// for server-sent event streams and caches. Events published while the
// replica is disconnected are not delivered to it.
func (b *Bus) AddReplicaConsumer(group string, bindings []string, h Handler) error {
	return b.addConsumer(Group{Name: group, Bindings: bindings, PerReplica: true}, h)
}

func (b *Bus) addConsumer(g Group, h Handler) error {
	if !nameRE.MatchString(g.Name) {
		return fmt.Errorf("%w: group %q: want 1-200 of [A-Za-z0-9_.:-]", ErrConfig, g.Name)
	}
	if h == nil || len(g.Bindings) == 0 {
		return fmt.Errorf("%w: group %q needs a handler and at least one binding", ErrConfig, g.Name)
	}
	for _, key := range g.Bindings {
		if err := checkBinding(key); err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	g.Bindings = slices.Clone(g.Bindings)
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.isClosing():
		return ErrClosed
	case b.running:
		return ErrRunning
	case slices.ContainsFunc(b.consumers, func(c consumer) bool { return c.group.Name == g.Name }):
		return fmt.Errorf("%w: group %q added twice", ErrConfig, g.Name)
	}
	sub, err := b.subscriber(g)
	if err != nil {
		return err
	}
	b.consumers = append(b.consumers, consumer{group: g, handler: h, sub: sub})
	return nil
}

func (b *Bus) subscriber(g Group) (message.Subscriber, error) {
	if b.emb != nil {
		return b.emb.subscriber(g)
	}
	if !g.PerReplica {
		ctx, cancel := context.WithTimeout(context.Background(), b.cfg.PublishTimeout)
		defer cancel()
		ch, err := b.pubConn.channel(ctx)
		if err != nil {
			return nil, fmt.Errorf("bus: declare group %s: %w", g.Name, err)
		}
		err = declareGroup(ch, b.cfg, g)
		_ = ch.Close()
		if err != nil {
			return nil, err
		}
	}
	if b.consConn == nil {
		b.consConn = newConnection(b.cfg.URL, b.cfg.ServiceName+"/"+b.cfg.ReplicaID+"/consume", b.cfg.Heartbeat, b.log,
			func() { b.metrics.reconnects.WithLabelValues("consume").Inc() })
	}
	return newAMQPSubscriber(b.consConn, b.cfg, g, b.log, func() {
		b.metrics.reconnects.WithLabelValues("subscription").Inc()
	}), nil
}

// Run consumes with every added consumer until ctx ends or Close is
// called, then stops the router, letting handlers in flight finish for up
// to Config.HandlerTimeout (unfinished deliveries are requeued). It returns
// nil on such a stop, an error if the router could not start or stopped
// by itself. Without consumers it just waits. Run may be called once.
func (b *Bus) Run(ctx context.Context) error {
	b.mu.Lock()
	if b.isClosing() {
		b.mu.Unlock()
		return ErrClosed
	}
	if b.running {
		b.mu.Unlock()
		return errors.New("bus: Run called twice")
	}
	b.running = true
	b.runWG.Add(1)
	defer b.runWG.Done()
	consumers := slices.Clone(b.consumers)
	b.mu.Unlock()

	if len(consumers) == 0 {
		select {
		case <-ctx.Done():
		case <-b.closing:
		}
		return nil
	}
	router, err := b.newRouter(consumers)
	if err != nil {
		return fmt.Errorf("bus: router: %w", err)
	}
	runCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	errc := make(chan error, 1)
	go func() { errc <- router.Run(runCtx) }()
	select {
	case <-ctx.Done():
	case <-b.closing:
	case err := <-errc:
		if ctx.Err() != nil || b.isClosing() {
			return nil
		}
		if err == nil {
			err = errors.New("every consumer stopped")
		}
		return fmt.Errorf("bus: router stopped: %w", err)
	}
	if err := router.Close(); err != nil {
		b.log.Warn("bus router did not stop cleanly", "err", err)
	}
	cancel()
	<-errc
	return nil
}

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

// poisonPublisher sends poisoned messages to the dead-letter exchange,
// which routes them to the poison queue.
type poisonPublisher struct{ b *Bus }

func (p poisonPublisher) Publish(_ string, msgs ...*message.Message) error {
	out := make([]*outgoing, len(msgs))
	for i, m := range msgs {
		out[i] = &outgoing{
			exchange: p.b.cfg.DeadLetterExchange(),
			key:      m.Metadata.Get(MetaRoutingKey),
			subject:  m.UUID,
			msg:      toPoisonPublishing(m),
		}
	}
	ctx, cancel := context.WithTimeoutCause(context.Background(), p.b.cfg.PublishTimeout, ErrTimeout)
	defer cancel()
	return errors.Join(p.b.pub.publish(ctx, out)...)
}

func (p poisonPublisher) Close() error { return nil }
