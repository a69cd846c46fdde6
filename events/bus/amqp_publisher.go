package bus

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// ErrNotConfirmed is returned for a message the broker nacked or whose
// channel closed before the confirm arrived. The message may still have been
// enqueued: a retry can duplicate it.
var ErrNotConfirmed = errors.New("bus: publish not confirmed by the broker")

// outgoing is one message to publish.
type outgoing struct {
	exchange string
	key      string
	subject  string // picks the channel, so one subject keeps its order
	// mandatory asks the broker to return the message when no queue
	// takes it (transitions: see ErrUnroutable).
	mandatory bool
	msg       amqp.Publishing
}

// pubReq is a publish of one or more messages handed to a channel's
// writer goroutine.
type pubReq struct {
	ctx  context.Context
	outs []*outgoing
	sent chan struct{} // closed once dcs/errs are set
	dcs  []*amqp.DeferredConfirmation
	trs  []*returnTracker // of the channel each message went out on
	errs []error
}

// fail sets err for every message of r that has no result yet.
func (r *pubReq) fail(err error) {
	for i := range r.outs {
		if r.errs[i] == nil && r.dcs[i] == nil {
			r.errs[i] = err
		}
	}
}

// amqpPublisher publishes with confirms over a fixed set of channels, each
// owned by one writer goroutine. Callers never touch the socket themselves:
// when the broker stops reading (resource alarm, stalled network) only the
// writers block, and callers give up at their deadline.
type amqpPublisher struct {
	conn    *connection
	declare func(*amqp.Channel) error // the exchanges, after a 404
	writers []chan *pubReq
	next    atomic.Uint32 // round robin of publishBatch
	log     *slog.Logger
	done    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once

	declMu   sync.Mutex
	declared time.Time // of the last declaration after a sign of missing topology
}

func newAMQPPublisher(conn *connection, channels int, declare func(*amqp.Channel) error, log *slog.Logger) *amqpPublisher {
	p := &amqpPublisher{conn: conn, declare: declare, log: log, done: make(chan struct{})}
	for range channels {
		reqs := make(chan *pubReq, 256)
		p.writers = append(p.writers, reqs)
		p.wg.Add(1)
		go p.write(reqs)
	}
	return p
}

// write owns one confirm-mode channel and publishes the requests it gets,
// reopening the channel after it closed. When the broker closed it because
// the exchange is missing (deleted, or a broker that lost its definitions),
// the topology is declared again first: publishing heals by itself.
func (p *amqpPublisher) write(reqs chan *pubReq) {
	defer p.wg.Done()
	var ch *amqp.Channel
	var closed chan *amqp.Error
	var returns *returnTracker
	defer func() {
		if ch != nil {
			_ = ch.Close()
		}
	}()
	for {
		var r *pubReq
		select {
		case <-p.done:
			return
		case r = <-reqs:
		}
		r.dcs, r.errs = make([]*amqp.DeferredConfirmation, len(r.outs)), make([]error, len(r.outs))
		r.trs = make([]*returnTracker, len(r.outs))
		for i, o := range r.outs {
			if err := r.ctx.Err(); err != nil {
				r.fail(context.Cause(r.ctx))
				break
			}
			if ch == nil || ch.IsClosed() {
				if ch != nil {
					p.redeclareIfMissing(r.ctx, closed)
				}
				var err error
				if ch, err = p.openChannel(r.ctx); err != nil {
					ch = nil
					r.fail(err)
					break
				}
				closed = ch.NotifyClose(make(chan *amqp.Error, 1))
				returns = trackReturns(ch)
			}
			r.trs[i] = returns
			r.dcs[i], r.errs[i] = ch.PublishWithDeferredConfirm(o.exchange, o.key, o.mandatory, false, o.msg)
		}
		close(r.sent)
	}
}

// redeclareIfMissing declares the topology again when the channel was
// closed with 404 NOT_FOUND.
func (p *amqpPublisher) redeclareIfMissing(ctx context.Context, closed <-chan *amqp.Error) {
	var reason *amqp.Error
	select {
	case reason = <-closed:
	default:
	}
	if reason == nil || reason.Code != amqp.NotFound {
		return
	}
	p.redeclare(ctx, "bus exchange missing, declaring the topology again", reason)
}

// redeclareEvery is the least time between two declarations after signs
// of missing topology: the returns of one burst declare it once.
const redeclareEvery = 100 * time.Millisecond

// redeclare declares the topology again on the publishing connection,
// after a sign that part of it is missing (a 404, a returned transition,
// a missing group queue). Concurrent callers wait for one declaration.
func (p *amqpPublisher) redeclare(ctx context.Context, msg string, reason error) {
	p.declMu.Lock()
	defer p.declMu.Unlock()
	if time.Since(p.declared) < redeclareEvery {
		return
	}
	p.log.Warn(msg, "err", reason)
	ch, err := p.conn.channel(ctx)
	if err != nil {
		return
	}
	defer func() { _ = ch.Close() }()
	if err := p.declare(ch); err != nil {
		p.log.Warn("bus topology declaration failed", "err", err)
		return
	}
	p.declared = time.Now()
}

func (p *amqpPublisher) openChannel(ctx context.Context) (*amqp.Channel, error) {
	ch, err := p.conn.channel(ctx)
	if err != nil {
		return nil, err
	}
	if err := ch.Confirm(false); err != nil {
		_ = ch.Close()
		return nil, err
	}
	return ch, nil
}

// publish sends every message and waits for its confirm until ctx ends.
// errs[i] is nil when msgs[i] was confirmed.
func (p *amqpPublisher) publish(ctx context.Context, msgs []*outgoing) (errs []error) {
	errs = make([]error, len(msgs))
	if p.conn.blocked.Load() {
		// A resource alarm: the broker reads nothing until it clears, so
		// fail now rather than at the deadline.
		for i := range errs {
			errs[i] = ErrBlocked
		}
		return errs
	}
	reqs := make([]*pubReq, len(msgs))
	for i, m := range msgs {
		r := &pubReq{ctx: ctx, outs: msgs[i : i+1], sent: make(chan struct{})}
		select {
		case p.writer(m.subject) <- r:
			reqs[i] = r
		case <-ctx.Done():
			errs[i] = context.Cause(ctx)
		case <-p.done:
			errs[i] = ErrClosed
		}
	}
	for i, r := range reqs {
		if r == nil {
			continue
		}
		copy(errs[i:i+1], p.await(ctx, r))
	}
	return errs
}

// publishBatch sends every message over one channel (the next in turn)
// in one request to its writer and waits for the confirms until ctx
// ends: for best-effort events, whose order across subjects does not
// matter, at a fraction of the hand-offs of publish.
func (p *amqpPublisher) publishBatch(ctx context.Context, msgs []*outgoing) []error {
	if p.conn.blocked.Load() {
		errs := make([]error, len(msgs))
		for i := range errs {
			errs[i] = ErrBlocked
		}
		return errs
	}
	r := &pubReq{ctx: ctx, outs: msgs, sent: make(chan struct{})}
	w := p.writers[int(p.next.Add(1))%len(p.writers)]
	select {
	case w <- r:
	case <-ctx.Done():
		return fill(len(msgs), context.Cause(ctx))
	case <-p.done:
		return fill(len(msgs), ErrClosed)
	}
	return p.await(ctx, r)
}

func fill(n int, err error) []error {
	errs := make([]error, n)
	for i := range errs {
		errs[i] = err
	}
	return errs
}

// await waits for r's messages to be written and confirmed. A mandatory
// message the broker returned fails with ErrUnroutable, after the
// topology was declared again.
func (p *amqpPublisher) await(ctx context.Context, r *pubReq) []error {
	select {
	case <-r.sent:
	case <-ctx.Done():
		return fill(len(r.outs), context.Cause(ctx))
	case <-p.done:
		return fill(len(r.outs), ErrClosed)
	}
	errs := r.errs
	for i, dc := range r.dcs {
		if errs[i] != nil || dc == nil {
			continue
		}
		select {
		case <-dc.Done():
			if !dc.Acked() {
				errs[i] = ErrNotConfirmed
			}
		case <-ctx.Done():
			errs[i] = context.Cause(ctx)
		}
	}
	// Every ack is in: the returns that preceded them were handed to the
	// trackers, and one sync per tracker makes them visible.
	var synced []*returnTracker
	var returned error
	for i, o := range r.outs {
		tr := r.trs[i]
		if errs[i] != nil || r.dcs[i] == nil || !o.mandatory || tr == nil {
			continue
		}
		if !slices.Contains(synced, tr) {
			tr.sync()
			synced = append(synced, tr)
		}
		if ret, ok := tr.take(o.msg.MessageId); ok {
			errs[i] = fmt.Errorf("%w: returned by the broker (%d %s)", ErrUnroutable, ret.ReplyCode, ret.ReplyText)
			returned = errs[i]
		}
	}
	if returned != nil {
		_ = detached(ctx, func() error {
			p.redeclare(ctx, "bus transition returned unroutable, declaring the topology again", returned)
			return nil
		})
	}
	return errs
}

func (p *amqpPublisher) writer(subject string) chan *pubReq {
	if len(p.writers) == 1 {
		return p.writers[0]
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(subject))
	return p.writers[h.Sum32()%uint32(len(p.writers))]
}

// stop makes pending and later publishes fail with ErrClosed; a writer
// stuck on the socket returns once the connection is closed.
func (p *amqpPublisher) stop() { p.once.Do(func() { close(p.done) }) }

// wait waits for the writers to return.
func (p *amqpPublisher) wait() { p.wg.Wait() }
