// Package lifecycle runs a process's components and stops them in order:
// named steps, started one after the other, stopped one after the other,
// each stop bounded in time, all of them bounded by one shutdown timeout,
// with a log line per step.
package lifecycle

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// ErrTimeout is wrapped by the error of a step that did not stop in time;
// the step is abandoned and the next one is stopped.
var ErrTimeout = errors.New("lifecycle: step did not stop in time")

// Step is one named component. Steps are listed in stop order; they start
// in the reverse order (what stops last starts first).
type Step struct {
	// Name names the step in logs and errors.
	Name string
	// Run, when set, runs the component until its context ends. An error
	// before then stops every step.
	Run func(ctx context.Context) error
	// Stop, when set, runs once Run has returned (or at once without Run):
	// it flushes and releases what the component holds.
	Stop func(ctx context.Context) error
	// Timeout bounds stopping the step (cancelling Run, waiting for it,
	// then Stop); zero means the shutdown timeout.
	Timeout time.Duration
}

// Lifecycle is an ordered list of steps.
type Lifecycle struct {
	log     *slog.Logger
	timeout time.Duration
	steps   []Step
}

// New returns an empty lifecycle whose whole shutdown is bounded by
// shutdownTimeout.
func New(log *slog.Logger, shutdownTimeout time.Duration) *Lifecycle {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Lifecycle{log: log.With("component", "lifecycle"), timeout: shutdownTimeout}
}

// Add appends steps, in stop order.
func (l *Lifecycle) Add(steps ...Step) { l.steps = append(l.steps, steps...) }

// running is a started step.
type running struct {
	cancel context.CancelFunc
	done   chan error // receives Run's error; nil channel without Run
}

// Run starts every step (the last one first) and runs them until ctx ends
// or a step's Run fails, then stops them in order. It returns the errors
// of the steps' Run, their Stop and their timeouts, joined.
func (l *Lifecycle) Run(ctx context.Context) error {
	failed := make(chan struct{}, 1)
	rs := make([]running, len(l.steps))
	for i := len(l.steps) - 1; i >= 0; i-- {
		s := l.steps[i]
		if s.Run == nil {
			continue
		}
		// Each step stops on its own, when its turn comes.
		sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan error, 1)
		rs[i] = running{cancel: cancel, done: done}
		go func() {
			err := s.Run(sctx)
			if err != nil && sctx.Err() == nil {
				select {
				case failed <- struct{}{}:
				default:
				}
			}
			done <- err
		}()
		l.log.Info("step started", "step", s.Name)
	}
	select {
	case <-ctx.Done():
		l.log.Info("shutting down", "steps", len(l.steps), "timeout", l.timeout)
	case <-failed:
		l.log.Warn("a step failed; shutting down", "steps", len(l.steps), "timeout", l.timeout)
	}
	return l.stop(context.WithoutCancel(ctx), rs)
}

// stop stops the steps in order, each within its timeout and all within
// the shutdown timeout.
func (l *Lifecycle) stop(ctx context.Context, rs []running) error {
	all, cancel := context.WithTimeout(ctx, l.timeout)
	defer cancel()
	var errs []error
	for i, s := range l.steps {
		start := time.Now()
		err := l.stopStep(all, s, rs[i])
		d := time.Since(start)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", s.Name, err))
			l.log.Error("step stopped", "step", s.Name, "duration", d, "err", err)
			continue
		}
		l.log.Info("step stopped", "step", s.Name, "duration", d)
	}
	return errors.Join(errs...)
}

// stopStep cancels a step's Run, waits for it and calls Stop, bounded by
// the step's timeout and by all.
func (l *Lifecycle) stopStep(all context.Context, s Step, r running) error {
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = l.timeout
	}
	ctx, cancel := context.WithTimeout(all, timeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		var err error
		if r.cancel != nil {
			r.cancel()
			err = <-r.done
		}
		if s.Stop != nil {
			err = errors.Join(err, s.Stop(ctx))
		}
		done <- err
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		if all.Err() != nil {
			return fmt.Errorf("%w: the shutdown timeout (%s) is spent", ErrTimeout, l.timeout)
		}
		return fmt.Errorf("%w: after %s", ErrTimeout, timeout)
	}
}
