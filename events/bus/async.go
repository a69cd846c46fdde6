package bus

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/dbhealth/database-service/events"
)

// asyncBatch is the most events one worker publishes (pipelined) at once.
const asyncBatch = 128

// asyncLinger is how long a worker waits for a batch to fill after its
// first event: a broker does far less work per message for a burst than
// for the same messages one by one (its confirms coalesce, its processes
// wake up once), and a check does not need to reach the bus within 10ms.
const asyncLinger = 10 * time.Millisecond

// dropLogEvery rate-limits the warning about dropped events.
const dropLogEvery = 10 * time.Second

// PublishAsync queues e for publishing and returns at once: false when the
// event was dropped because the buffer is full or the bus is closing.
// Queued events are published by Config.AsyncWorkers workers with
// confirms; an event not confirmed after one retry is dropped. Drops are
// counted (dbhealth_bus_events_dropped_total) and logged at warn at most
// once every 10s. For high-volume, best-effort events (HealthChecked).
func (b *Bus) PublishAsync(e events.Envelope) bool {
	if b.isClosing() {
		b.drop(e.Type, dropClosed, nil)
		return false
	}
	select {
	case b.buf <- e:
		return true
	default:
		b.drop(e.Type, dropBufferFull, nil)
		return false
	}
}

// asyncWorker publishes batches from the buffer until Close, then drains it.
func (b *Bus) asyncWorker() {
	defer b.asyncWG.Done()
	batch := make([]events.Envelope, 0, asyncBatch)
	for {
		select {
		case e := <-b.buf:
			batch = b.linger(b.fill(append(batch[:0], e)))
			b.publishBestEffort(context.Background(), batch)
		case <-b.closing:
			b.drainAsync(batch)
			return
		}
	}
}

// fill adds buffered events to batch without waiting.
func (b *Bus) fill(batch []events.Envelope) []events.Envelope {
	for len(batch) < asyncBatch {
		select {
		case e := <-b.buf:
			batch = append(batch, e)
		default:
			return batch
		}
	}
	return batch
}

// linger adds events arriving within asyncLinger to a batch that is not
// full yet (not when closing).
func (b *Bus) linger(batch []events.Envelope) []events.Envelope {
	if len(batch) >= asyncBatch {
		return batch
	}
	t := time.NewTimer(asyncLinger)
	defer t.Stop()
	for len(batch) < asyncBatch {
		select {
		case e := <-b.buf:
			batch = append(batch, e)
		case <-t.C:
			return batch
		case <-b.closing:
			return batch
		}
	}
	return batch
}

// drainAsync publishes what is left in the buffer, for at most
// PublishTimeout; the rest is dropped.
func (b *Bus) drainAsync(batch []events.Envelope) {
	ctx, cancel := context.WithTimeoutCause(context.Background(), b.cfg.PublishTimeout, ErrTimeout)
	defer cancel()
	for {
		batch = b.fill(batch[:0])
		if len(batch) == 0 {
			return
		}
		if ctx.Err() != nil {
			for _, e := range batch {
				b.drop(e.Type, dropClosed, ctx.Err())
			}
			continue
		}
		b.publishBestEffort(ctx, batch)
	}
}

// publishBestEffort publishes a batch, dropping what fails.
func (b *Bus) publishBestEffort(ctx context.Context, batch []events.Envelope) {
	msgs := make([]*outgoing, 0, len(batch))
	sent := make([]events.Envelope, 0, len(batch))
	for _, e := range batch {
		o, err := toOutgoing(b.marshaler, b.cfg.Exchange, b.cfg.ServiceName, e)
		if err != nil {
			b.drop(e.Type, dropPublishFailed, err)
			continue
		}
		msgs = append(msgs, o)
		sent = append(sent, e)
	}
	ctx, cancel := context.WithTimeoutCause(ctx, b.cfg.PublishTimeout, ErrTimeout)
	defer cancel()
	send := b.send
	if b.pub != nil {
		send = b.pub.publishBatch
	}
	errs, again := b.publishRetryWith(ctx, send, msgs)
	for _, i := range again {
		b.metrics.republished.WithLabelValues(typeLabel(sent[i].Type)).Inc()
	}
	for i, err := range errs {
		if err != nil {
			b.drop(sent[i].Type, dropPublishFailed, err)
			continue
		}
		b.metrics.published.WithLabelValues(typeLabel(sent[i].Type)).Inc()
	}
}

// drop counts a dropped event and logs, rate-limited.
func (b *Bus) drop(typ, reason string, err error) {
	b.metrics.dropped.WithLabelValues(typeLabel(typ), reason).Inc()
	b.drops.note(reason, err)
}

// dropLog logs dropped events at most once every dropLogEvery.
type dropLog struct {
	log  *slog.Logger
	mu   sync.Mutex
	last time.Time
	n    int
}

func (d *dropLog) note(reason string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.n++
	if now := time.Now(); now.Sub(d.last) >= dropLogEvery {
		args := []any{"dropped", d.n, "reason", reason}
		if err != nil {
			args = append(args, "err", err)
		}
		d.log.Warn("bus dropped best-effort events", args...)
		d.last, d.n = now, 0
	}
}
