package bus

import (
	"context"
	"sync"

	"github.com/ThreeDotsLabs/watermill"
	"github.com/ThreeDotsLabs/watermill/message"
	"github.com/ThreeDotsLabs/watermill/pubsub/gochannel"
)

// embedded is the in-process transport: a watermill gochannel with one
// topic per consumer group. gochannel has no wildcards, so publish does the
// topic-exchange routing itself (Match) and gives each group one copy of
// every event one of its bindings matches. It serves one process only;
// events are not persisted, and their order is not guaranteed in bursts
// (gochannel hands each message over from its own goroutine).
type embedded struct {
	cfg    Config
	pubsub *gochannel.GoChannel
	ctx    context.Context // lifetime of the group subscriptions
	cancel context.CancelFunc

	mu     sync.RWMutex
	groups []embeddedGroup
}

type embeddedGroup struct {
	topic string
	group Group
}

func newEmbedded(cfg Config, logger watermill.LoggerAdapter) *embedded {
	ctx, cancel := context.WithCancel(context.Background())
	return &embedded{
		cfg: cfg,
		pubsub: gochannel.NewGoChannel(gochannel.Config{
			OutputChannelBuffer: int64(cfg.Prefetch),
		}, logger),
		ctx: ctx, cancel: cancel,
	}
}

// publish routes each message to the groups whose bindings match it.
func (e *embedded) publish(_ context.Context, msgs []*outgoing) []error {
	errs := make([]error, len(msgs))
	e.mu.RLock()
	defer e.mu.RUnlock()
	for i, o := range msgs {
		for _, g := range e.groups {
			if !matchesAny(g.group.keys(), o.key) {
				continue
			}
			msg := message.NewMessage(o.msg.MessageId, o.msg.Body)
			msg.Metadata.Set(MetaRoutingKey, o.key)
			msg.Metadata.Set(MetaType, o.msg.Type)
			if err := e.pubsub.Publish(g.topic, msg); err != nil {
				errs[i] = ErrClosed
			}
		}
	}
	return errs
}

func matchesAny(bindings []string, key string) bool {
	for _, b := range bindings {
		if Match(b, key) {
			return true
		}
	}
	return false
}

// subscriber subscribes the group's topic at once, so events published
// before the router runs wait for it instead of being dropped.
func (e *embedded) subscriber(g Group) (message.Subscriber, error) {
	topic := e.cfg.QueueName(g.Name)
	src, err := e.pubsub.Subscribe(e.ctx, topic)
	if err != nil {
		return nil, ErrClosed
	}
	e.mu.Lock()
	e.groups = append(e.groups, embeddedGroup{topic: topic, group: g})
	e.mu.Unlock()
	return &forwarder{src: src, closing: make(chan struct{})}, nil
}

func (e *embedded) poisonPublisher() message.Publisher { return e.pubsub }

func (e *embedded) close() {
	e.cancel()
	_ = e.pubsub.Close()
}

// forwarder hands a pre-subscribed gochannel subscription to the router
// one message at a time, waiting for each to be acked or nacked, so a group
// handles one event at a time as with RabbitMQ's single active consumer.
// Stopping it nacks the message in hand, which gochannel redelivers.
type forwarder struct {
	src     <-chan *message.Message
	closing chan struct{}
	once    sync.Once
}

func (f *forwarder) Subscribe(ctx context.Context, _ string) (<-chan *message.Message, error) {
	out := make(chan *message.Message)
	go func() {
		defer close(out)
		for {
			var msg *message.Message
			select {
			case m, ok := <-f.src:
				if !ok {
					return
				}
				msg = m
			case <-ctx.Done():
				return
			case <-f.closing:
				return
			}
			select {
			case out <- msg:
			case <-ctx.Done():
				msg.Nack()
				return
			case <-f.closing:
				msg.Nack()
				return
			}
			select {
			case <-msg.Acked():
			case <-msg.Nacked():
			case <-ctx.Done():
				return
			case <-f.closing:
				return
			}
		}
	}()
	return out, nil
}

func (f *forwarder) Close() error {
	f.once.Do(func() { close(f.closing) })
	return nil
}
