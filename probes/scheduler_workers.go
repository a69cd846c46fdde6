package probes

import (
	"context"
	"errors"
	"sync"
	"time"
)

// The worker pool: won probes wait in a bounded queue for one of
// Opts.Concurrency long-lived workers, each taking a slot of the
// concurrency cap that connection tests (TestNow) share.

// job is one won probe waiting for a worker.
type job struct {
	id      string
	trigger Trigger
	slot    int64
}

// maxQueued bounds the probes waiting for a worker; one per target at most.
const maxQueued = 1 << 14

// dispatch claims the due probes in one call and starts the won ones.
func (s *Scheduler) dispatch(ctx context.Context, ls *loopState, due []Due) {
	if len(due) == 0 {
		return
	}
	claims, err := s.claimer.Claim(ctx, due)
	if err != nil || len(claims) != len(due) {
		if ctx.Err() != nil {
			return
		}
		s.logs.every(s.log, "claim", "claims failed (is the store down?); retrying soon", "err", err, "due", len(due))
		for _, d := range due {
			s.triggerAtLocked(ls, d.Target.ID(), d.Trigger, s.opts.RetryInterval)
		}
		return
	}
	for i, d := range due {
		if !claims[i].Won {
			continue
		}
		s.start(ctx, d, claims[i].Slot)
	}
}

// start queues one won probe for the workers. A target whose previous
// probe is still queued or running is skipped (and counted): piling up
// probes of a slow target helps nobody.
func (s *Scheduler) start(_ context.Context, d Due, slot int64) {
	id := d.Target.ID()
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.busy[id] {
		s.skipped.Add(1)
		return
	}
	select {
	case s.jobs <- job{id: id, trigger: d.Trigger, slot: slot}:
		s.busy[id] = true
	default:
		s.skipped.Add(1)
	}
}

// worker runs queued probes until ctx is done.
func (s *Scheduler) worker(ctx context.Context) {
	defer s.wg.Done()
	for {
		var j job
		select {
		case <-ctx.Done():
			return
		case j = <-s.jobs:
		}
		select {
		case s.slots <- struct{}{}: // shared with connection tests
		case <-ctx.Done():
			return
		}
		r, err := s.prober.Probe(ctx, j.id)
		<-s.slots
		s.mu.Lock()
		delete(s.busy, j.id)
		s.mu.Unlock()
		if err != nil || ctx.Err() != nil {
			continue
		}
		s.results <- Check{Result: r, Slot: j.slot, Trigger: j.trigger}
	}
}

// ErrNoTargets is returned by TestNow when no target is given.
var ErrNoTargets = errors.New("probes: no such targets")

// TestNow probes the given targets at once (a connection test through the
// API) and returns the results. The probes take their slots under the
// concurrency cap like scheduled ones, and the results are not applied: a
// test neither counts towards the thresholds nor moves a state.
func (s *Scheduler) TestNow(ctx context.Context, targets []Target) ([]Result, error) {
	if len(targets) == 0 {
		return nil, ErrNoTargets
	}
	out := make([]Result, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		select {
		case s.slots <- struct{}{}:
		case <-ctx.Done():
			wg.Wait()
			return nil, ctx.Err()
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-s.slots }()
			r, err := s.prober.Probe(ctx, t.ID())
			if err != nil {
				r = Judge(t, nil, err, 0, time.Now())
			}
			out[i] = r
		}()
	}
	wg.Wait()
	return out, nil
}
