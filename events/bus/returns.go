package bus

import (
	"errors"
	"sync"

	amqp "github.com/rabbitmq/amqp091-go"
)

// ErrUnroutable is the cause of a mandatory message (a transition) that
// reached none of the queues it must reach: the broker returned it
// (basic.return, no queue and no alternate exchange's queue took it), or
// a durable group queue that binds its routing key was missing when it
// was confirmed. The topology is declared again before the error is
// returned, so a later retry routes.
var ErrUnroutable = errors.New("bus: transition not routed to its group queues")

// maxReturnsKept bounds the returns a channel remembers that no waiting
// publish has claimed (their publish gave up at its deadline).
const maxReturnsKept = 4096

// returnTracker records the basic.return frames of one confirm-mode
// channel, by message id. RabbitMQ sends the basic.return of a mandatory
// message before its basic.ack on the same channel, and amqp091 hands
// both over from one reader goroutine in that order; the listener channel
// is unbuffered, so the reader waits until run has received a return
// before it processes the ack that follows. A publish that saw its ack
// then asks run a question (sync): run answers only after it recorded
// every return it had received, so take afterwards sees the message's
// return if there was one. Delivery tags restart on every channel, and
// so does the tracker: confirm tracking never mixes channels.
type returnTracker struct {
	in   <-chan amqp.Return
	ask  chan chan struct{}
	done chan struct{} // closed once the channel closed and run returned

	mu       sync.Mutex
	returned map[string]amqp.Return
}

// trackReturns listens for ch's returns until ch closes.
func trackReturns(ch *amqp.Channel) *returnTracker {
	t := &returnTracker{
		in:       ch.NotifyReturn(make(chan amqp.Return)),
		ask:      make(chan chan struct{}),
		done:     make(chan struct{}),
		returned: map[string]amqp.Return{},
	}
	go t.run()
	return t
}

func (t *returnTracker) run() {
	defer close(t.done)
	for {
		select {
		case r, ok := <-t.in:
			if !ok {
				return // the channel closed
			}
			t.mu.Lock()
			if len(t.returned) >= maxReturnsKept {
				clear(t.returned)
			}
			t.returned[r.MessageId] = r
			t.mu.Unlock()
		case reply := <-t.ask:
			close(reply)
		}
	}
}

// sync returns once every return received before the call is recorded.
func (t *returnTracker) sync() {
	reply := make(chan struct{})
	select {
	case t.ask <- reply:
		<-reply
	case <-t.done:
	}
}

// take reports (and forgets) the return of message id, if any. Call it
// after sync, once the message's confirm arrived.
func (t *returnTracker) take(id string) (amqp.Return, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r, ok := t.returned[id]
	if ok {
		delete(t.returned, id)
	}
	return r, ok
}
