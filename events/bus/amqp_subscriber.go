package bus

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	wamqp "github.com/ThreeDotsLabs/watermill-amqp/v3/pkg/amqp"
	"github.com/ThreeDotsLabs/watermill/message"
	amqp "github.com/rabbitmq/amqp091-go"
)

// errCancelled means the broker cancelled the consumer or closed its
// channel: the subscription starts over.
var errCancelled = errors.New("bus: consumer cancelled by the broker")

// amqpSubscriber is a watermill message.Subscriber for one group's queue.
// Every (re)subscription redeclares the queue and its bindings on the
// consuming connection, opens a channel with the prefetch, and consumes;
// messages are handed out as dispatch allows and acked or nacked
// (requeued) as the router decides. Empty deliveries (a consumer cancelled
// by the server can yield a zero Delivery) never reach the router.
type amqpSubscriber struct {
	conn      *connection
	cfg       Config
	group     Group
	queue     string
	tag       string
	marshaler wamqp.Marshaler
	log       *slog.Logger
	onRestart func()

	closing chan struct{}
	once    sync.Once
	wg      sync.WaitGroup
}

var _ message.Subscriber = (*amqpSubscriber)(nil)

func newAMQPSubscriber(conn *connection, cfg Config, g Group, m wamqp.Marshaler, log *slog.Logger, onRestart func()) *amqpSubscriber {
	queue := cfg.QueueName(g.Name)
	if g.PerReplica {
		queue = cfg.ReplicaQueueName(g.Name)
	}
	return &amqpSubscriber{
		conn: conn, cfg: cfg, group: g, queue: queue, marshaler: m,
		tag: cfg.ReplicaID + "/" + g.Name, log: log.With("group", g.Name, "queue", queue),
		onRestart: onRestart, closing: make(chan struct{}),
	}
}

// Subscribe consumes the group's queue (the topic is ignored) until ctx
// ends or Close is called; the channel is closed then.
func (s *amqpSubscriber) Subscribe(ctx context.Context, _ string) (<-chan *message.Message, error) {
	out := make(chan *message.Message)
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		defer close(out)
		backoff := 100 * time.Millisecond
		for first := true; ; first = false {
			if !first && s.onRestart != nil {
				s.onRestart()
			}
			start := time.Now()
			err := s.consume(ctx, out)
			if s.stopping(ctx) {
				return
			}
			if time.Since(start) > 10*time.Second {
				backoff = 100 * time.Millisecond
			}
			s.log.Warn("bus consumer stopped, resubscribing", "err", err, "retry_in", backoff)
			select {
			case <-ctx.Done():
				return
			case <-s.closing:
				return
			case <-time.After(backoff/2 + rand.N(backoff/2+1)):
			}
			backoff = min(backoff*2, 5*time.Second)
		}
	}()
	return out, nil
}

func (s *amqpSubscriber) stopping(ctx context.Context) bool {
	select {
	case <-ctx.Done():
		return true
	case <-s.closing:
		return true
	default:
		return false
	}
}

// consume runs one subscription until its channel or consumer ends.
func (s *amqpSubscriber) consume(ctx context.Context, out chan<- *message.Message) error {
	waitCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-s.closing:
			cancel()
		case <-waitCtx.Done():
		}
	}()
	ch, err := s.conn.channel(waitCtx)
	if err != nil {
		return err
	}
	defer func() { _ = ch.Close() }()
	if err := ch.Qos(s.cfg.Prefetch, 0, false); err != nil {
		return err
	}
	if err := declareGroup(ch, s.cfg, s.group); err != nil {
		return err
	}
	// Not ConsumeWithContext: its basic.cancel can race the channel's close
	// and make the broker close the whole connection (504 CHANNEL_ERROR).
	deliveries, err := ch.Consume(s.queue, s.tag, false, false, false, false, nil)
	if err != nil {
		return err
	}
	return s.dispatch(waitCtx, newAcker(ch), deliveries, out)
}

// settlement is the router's verdict on a message handed out.
type settlement struct {
	d       amqp.Delivery
	subject string
	ack     bool
}

// dispatch hands deliveries to the router, up to Config.Concurrency at
// once but never two of the same subject: a delivery whose subject is in
// flight waits (and with it the deliveries behind it) until that one is
// settled, so each subject's events are handled in queue order. Messages
// not settled when the subscription stops stay unacked and are requeued
// when the channel closes.
func (s *amqpSubscriber) dispatch(ctx context.Context, acks *acker, deliveries <-chan amqp.Delivery, out chan<- *message.Message) error {
	settled := make(chan settlement, s.cfg.Concurrency) // never blocks a waiter
	busy := make(map[string]bool, s.cfg.Concurrency)
	var held *amqp.Delivery             // waiting for its subject to be settled
	defer func() { _ = acks.flush() }() // settled ones; the rest is requeued
	hand := func(d amqp.Delivery, subject string) bool {
		msg := toMessage(s.marshaler, d)
		msg.SetContext(ctx)
		select {
		case out <- msg:
		case <-ctx.Done():
			return false
		}
		busy[subject] = true
		acks.add(d.DeliveryTag)
		go func() {
			select {
			case <-msg.Acked():
				settled <- settlement{d, subject, true}
			case <-msg.Nacked():
				settled <- settlement{d, subject, false}
			case <-ctx.Done():
			}
		}()
		return true
	}
	for {
		var in <-chan amqp.Delivery
		if held == nil && len(busy) < s.cfg.Concurrency {
			in = deliveries
		}
		select {
		case d, ok := <-in:
			if !ok {
				return errCancelled
			}
			if d.Acknowledger == nil {
				continue // zero delivery
			}
			subject := subjectOf(d)
			if busy[subject] {
				held = &d
				continue
			}
			if !hand(d, subject) {
				return nil
			}
		case st := <-settled:
			delete(busy, st.subject)
			if err := acks.settle(st.d.DeliveryTag, st.ack); err != nil {
				return err
			}
			if held != nil {
				if subject := subjectOf(*held); !busy[subject] {
					d := *held
					held = nil
					if !hand(d, subject) {
						return nil
					}
				}
			}
		case <-acks.due():
			acks.armed = false
			if err := acks.flush(); err != nil {
				return err
			}
		case <-ctx.Done():
			return nil
		}
	}
}

// Close stops every subscription and waits for them.
func (s *amqpSubscriber) Close() error {
	s.once.Do(func() { close(s.closing) })
	s.wg.Wait()
	return nil
}
