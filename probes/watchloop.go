package probes

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// Backoff bounds between two attempts of a watcher to re-establish its
// connection.
const (
	watchBackoffMin = 100 * time.Millisecond
	watchBackoffMax = 5 * time.Second
)

// watchSession establishes a watched connection and blocks until that
// connection is lost or ctx is done. connected reports whether the
// connection was established at all; reason says why it was lost.
type watchSession func(ctx context.Context) (connected bool, reason string)

// watchLoop runs session until ctx is done. Each time an established
// connection is lost it calls lost(reason) at once, then re-establishes the
// connection with exponential backoff (reset after every established one).
// A failed attempt is not a loss: lost is called once per lost connection,
// not once per refused reconnect.
func watchLoop(ctx context.Context, lost func(reason string), session watchSession) {
	delay := watchBackoffMin
	for ctx.Err() == nil {
		connected, reason := session(ctx)
		if ctx.Err() != nil {
			return
		}
		if connected {
			lost(reason)
			delay = watchBackoffMin
		}
		if !sleepCtx(ctx, jitter(delay)) {
			return
		}
		if !connected {
			delay = min(2*delay, watchBackoffMax)
		}
	}
}

// jitter spreads d by ±20% so that watchers of many targets do not
// reconnect in lock step.
func jitter(d time.Duration) time.Duration {
	return d + time.Duration((rand.Float64()*0.4-0.2)*float64(d))
}

// sleepCtx sleeps for d; it returns false when ctx ended first.
func sleepCtx(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// closeSignal is closed once, by a client's Close, and tells the client's
// watcher and a dial in flight to stop.
type closeSignal struct {
	once sync.Once
	ch   chan struct{}
}

func newCloseSignal() *closeSignal { return &closeSignal{ch: make(chan struct{})} }

// close closes the signal and then runs release; later calls do nothing.
func (s *closeSignal) close(release func()) {
	s.once.Do(func() {
		close(s.ch)
		release()
	})
}

// done is closed once the signal is.
func (s *closeSignal) done() <-chan struct{} { return s.ch }

// untilClosed returns a context that ends with ctx or when closed is closed
// (a client's Close), so that a watcher stops with its client.
func untilClosed(ctx context.Context, closed <-chan struct{}) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	go func() {
		select {
		case <-closed:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}

// isClosedChan reports whether ch is closed (it must be one that is only
// ever closed, never sent on).
func isClosedChan(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
