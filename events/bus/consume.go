package bus

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/ThreeDotsLabs/watermill/message"
)

// AddConsumer registers h for the consumer group: one queue
// "<ServiceName>.<group>" shared by all replicas (single active consumer,
// so events are handled in order by one replica at a time), bound with
// bindings (AMQP topic patterns, see Match). With RabbitMQ the queue is
// declared at once, so events published from now on are kept for the
// group even before Run starts. Call it before Run.
func (b *Bus) AddConsumer(group string, bindings []string, h Handler) error {
	if h == nil {
		return fmt.Errorf("%w: group %q needs a handler", ErrConfig, group)
	}
	return b.addConsumer(Group{Name: group, Bindings: bindings}, h, nil)
}

// AddReplicaConsumer registers h for a group that every replica receives
// in full (a transient queue per replica, dropped with its connection):
// for server-sent event streams and caches. Events published while the
// replica is disconnected are not delivered to it.
func (b *Bus) AddReplicaConsumer(group string, bindings []string, h Handler) error {
	if h == nil {
		return fmt.Errorf("%w: group %q needs a handler", ErrConfig, group)
	}
	return b.addConsumer(Group{Name: group, Bindings: bindings, PerReplica: true}, h, nil)
}

func (b *Bus) addConsumer(g Group, h Handler, checks CheckHandler) error {
	if !nameRE.MatchString(g.Name) {
		return fmt.Errorf("%w: group %q: want 1-200 of [A-Za-z0-9_.:-]", ErrConfig, g.Name)
	}
	if len(g.Bindings) == 0 {
		return fmt.Errorf("%w: group %q needs at least one binding", ErrConfig, g.Name)
	}
	for _, key := range g.Bindings {
		if err := checkBinding(key); err != nil {
			return fmt.Errorf("%w: %w", ErrConfig, err)
		}
	}
	g.Bindings = slices.Clone(g.Bindings)
	if g.PerReplica {
		g.extra = &extraBindings{}
	}
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
	if checks != nil {
		if err := b.declareShared(g); err != nil {
			return err
		}
		b.ensureConsConn()
		b.consumers = append(b.consumers, consumer{group: g, checks: checks})
		return nil
	}
	sub, err := b.subscriber(g)
	if err != nil {
		return err
	}
	b.consumers = append(b.consumers, consumer{group: g, handler: h, sub: sub})
	return nil
}

// declareShared declares a shared group's queue now when the broker is
// reachable, so events published from now on are kept for it. A broker
// that is down gets it with the rest of the topology when the publishing
// connection comes up, and the group's consumer declares it on every
// subscription; a declaration the broker refuses (a queue of the same name
// with other arguments) is an error.
func (b *Bus) declareShared(g Group) error {
	if b.pubConn.check() != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), b.cfg.PublishTimeout)
	defer cancel()
	ch, err := b.pubConn.channel(ctx)
	if err != nil {
		b.log.Warn("bus group declared later: the broker is unreachable", "group", g.Name, "err", err)
		return nil
	}
	err = declareGroup(ch, b.cfg, g)
	_ = ch.Close()
	return err
}

// ensureConsConn opens the consuming connection on first use.
func (b *Bus) ensureConsConn() {
	if b.consConn == nil {
		b.consConn = newConnection(b.cfg.URL, b.cfg.ServiceName+"/"+b.cfg.ReplicaID+"/consume", b.cfg.Heartbeat, b.log,
			func() { b.metrics.reconnects.WithLabelValues("consume").Inc() }).start()
	}
}

func (b *Bus) subscriber(g Group) (message.Subscriber, error) {
	if b.emb != nil {
		return b.emb.subscriber(g)
	}
	if !g.PerReplica {
		if err := b.declareShared(g); err != nil {
			return nil, err
		}
	}
	b.ensureConsConn()
	return newAMQPSubscriber(b.consConn, b.cfg, g, b.marshaler, b.log, func() {
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

	var checks sync.WaitGroup
	runCtx, cancel := context.WithCancel(ctx)
	defer func() { cancel(); checks.Wait() }()
	routed := 0
	for _, c := range consumers {
		if c.checks == nil {
			routed++
			continue
		}
		cc := &checkConsumer{b: b, group: c.group, queue: b.cfg.QueueName(c.group.Name), h: c.checks}
		checks.Add(1)
		go func() { defer checks.Done(); cc.run(runCtx) }()
	}
	if routed == 0 {
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

// BindReplica adds (on) or removes (!on) the binding key of the
// per-replica group's queue while the bus runs, and keeps it across
// reconnects: a stream that wants high-volume events only while somebody
// watches binds them then (the SSE hub binds HealthChecked only while a
// client asks for it).
func (b *Bus) BindReplica(ctx context.Context, group, key string, on bool) error {
	if err := checkBinding(key); err != nil {
		return fmt.Errorf("%w: %w", ErrConfig, err)
	}
	b.mu.Lock()
	var g *Group
	for i := range b.consumers {
		if c := &b.consumers[i]; c.group.Name == group && c.group.PerReplica {
			g = &c.group
		}
	}
	b.mu.Unlock()
	if g == nil {
		return fmt.Errorf("%w: no per-replica group %q", ErrConfig, group)
	}
	g.extra.mu.Lock()
	had := slices.Contains(g.extra.keys, key)
	switch {
	case on && !had:
		g.extra.keys = append(g.extra.keys, key)
	case !on && had:
		g.extra.keys = slices.DeleteFunc(g.extra.keys, func(k string) bool { return k == key })
	}
	g.extra.mu.Unlock()
	if b.emb != nil || on == had {
		return nil
	}
	// The queue is exclusive to the consuming connection: bind there. A
	// connection that is down gets the new bindings when it resubscribes.
	if b.consConn.check() != nil {
		return nil
	}
	ch, err := b.consConn.channel(ctx)
	if err != nil {
		return nil
	}
	defer ch.Close()
	queue := b.cfg.ReplicaQueueName(group)
	if on {
		err = ch.QueueBind(queue, key, b.cfg.Exchange, false, nil)
	} else {
		err = ch.QueueUnbind(queue, key, b.cfg.Exchange, nil)
	}
	if err != nil {
		return fmt.Errorf("bus: bind %s with %q: %w", queue, key, err)
	}
	return nil
}
