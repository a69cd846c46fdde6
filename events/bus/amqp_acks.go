package bus

import (
	"time"

	amqp "github.com/rabbitmq/amqp091-go"
)

// Acknowledgements are batched: one basic.ack with multiple=true settles a
// run of deliveries, saving a write per message on both sides.
const (
	ackBatch = 32                   // acks sent at once at the latest
	ackDelay = 5 * time.Millisecond // longest an ack waits
)

// acker settles deliveries on their channel. Acks of the contiguous run of
// settled deliveries at the head of the window go out together (multiple);
// acks behind a delivery still in flight go out one by one at the next
// flush, so a slow handler does not hold the others' prefetch slots.
// Nacks (requeue) go out at once.
type acker struct {
	ch      *amqp.Channel
	window  []*ackEntry // in delivery order, from the oldest unsettled
	byTag   map[uint64]*ackEntry
	lastAck uint64 // highest acked tag of the settled head run not sent yet
	unsent  int    // acks waiting (head run and behind the head)
	timer   *time.Timer
	armed   bool
}

type ackEntry struct {
	tag   uint64
	state uint8 // ackInFlight, ackPending, ackDone
}

const (
	ackInFlight = iota
	ackPending
	ackDone
)

func newAcker(ch *amqp.Channel) *acker {
	t := time.NewTimer(time.Hour)
	t.Stop()
	return &acker{ch: ch, byTag: make(map[uint64]*ackEntry), timer: t}
}

// add records a delivery handed out.
func (a *acker) add(tag uint64) {
	e := &ackEntry{tag: tag}
	a.window = append(a.window, e)
	a.byTag[tag] = e
}

// settle records the router's verdict on a delivery.
func (a *acker) settle(tag uint64, ack bool) error {
	e := a.byTag[tag]
	if e == nil {
		return nil
	}
	delete(a.byTag, tag)
	if !ack {
		e.state = ackDone
		if err := a.ch.Nack(tag, false, true); err != nil {
			return err
		}
	} else {
		e.state = ackPending
		a.unsent++
	}
	for len(a.window) > 0 && a.window[0].state != ackInFlight {
		if h := a.window[0]; h.state == ackPending {
			a.lastAck = h.tag
		}
		a.window[0] = nil
		a.window = a.window[1:]
	}
	if a.unsent >= ackBatch {
		return a.flush()
	}
	if a.unsent > 0 && !a.armed {
		a.timer.Reset(ackDelay)
		a.armed = true
	}
	return nil
}

// due fires when pending acks have waited ackDelay.
func (a *acker) due() <-chan time.Time { return a.timer.C }

// flush sends every pending ack.
func (a *acker) flush() error {
	if a.armed {
		a.timer.Stop()
		a.armed = false
	}
	if a.unsent == 0 {
		return nil
	}
	if a.lastAck != 0 {
		if err := a.ch.Ack(a.lastAck, true); err != nil {
			return err
		}
		a.lastAck = 0
	}
	for _, e := range a.window {
		if e.state == ackPending {
			if err := a.ch.Ack(e.tag, false); err != nil {
				return err
			}
			e.state = ackDone
		}
	}
	a.unsent = 0
	return nil
}
