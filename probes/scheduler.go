package probes

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// SchedulerOptions configure a Scheduler. Zero values take the defaults.
type SchedulerOptions struct {
	// Concurrency caps probes running at once (default 64).
	Concurrency int
	// RetryInterval is how soon a pending transition is re-probed, and the
	// claim bucket of retry and watch probes (default 1s).
	RetryInterval time.Duration
	// FirstSpread bounds the random delay of a target's first probe
	// (default min(interval, 5s)).
	FirstSpread time.Duration
	// RecoveryBackoff re-probes a DOWN or DEGRADED target on a backoff
	// starting at RetryInterval, doubling, capped at the target's
	// interval (RECOVERY_BACKOFF).
	RecoveryBackoff bool
	Logger          *slog.Logger
}

// Scheduler runs every target's probe on its interval, with a random first
// offset, a global concurrency cap, immediate probes on watcher triggers and
// fast re-probes while a transition is pending. Claims and results go
// through the Claimer and the Sink, batched.
//
// Its parts: the seams it needs (scheduler_seams.go), the loop's commands
// (scheduler_commands.go), the timing of probes and the recovery backoff
// (scheduler_timing.go), the worker pool (scheduler_workers.go) and the
// batching of results into the Sink (scheduler_apply.go).
type Scheduler struct {
	prober  Prober
	claimer Claimer
	sink    Sink
	opts    SchedulerOptions
	log     *slog.Logger

	jobs    chan job
	slots   chan struct{} // one per running probe: Opts.Concurrency in all
	results chan Check
	wg      sync.WaitGroup

	// Commands for the loop: an unbounded queue, never dropped.
	cmdMu  sync.Mutex
	queued []func(*loopState)
	wake   chan struct{}

	mu       sync.Mutex
	busy     map[string]bool          // targets whose probe is queued or running
	current  map[string]Target        // the targets of the last SetTargets
	recovery map[string]time.Duration // next recovery re-probe delay of a bad target
	skipped  atomic.Int64
	dropped  atomic.Int64 // late results of removed targets
	logs     rateLog
}

// NewScheduler returns a scheduler; call SetTargets and Run.
func NewScheduler(p Prober, c Claimer, s Sink, opts SchedulerOptions) *Scheduler {
	opts.Concurrency = orDefault(opts.Concurrency, 64)
	opts.RetryInterval = orDefault(opts.RetryInterval, time.Second)
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Scheduler{
		prober: p, claimer: c, sink: s, opts: opts, log: opts.Logger,
		jobs:     make(chan job, maxQueued),
		slots:    make(chan struct{}, opts.Concurrency),
		results:  make(chan Check, 4096),
		wake:     make(chan struct{}, 1),
		busy:     map[string]bool{},
		current:  map[string]Target{},
		recovery: map[string]time.Duration{},
	}
}

// Run drives the schedule until ctx is done, then waits for running probes.
// Opts.Concurrency workers run the probes; they live as long as Run, so a
// probe never pays for a new goroutine and its stack.
func (s *Scheduler) Run(ctx context.Context) error {
	ls := &loopState{targets: map[string]Target{}, scheduled: map[string]*item{}, extra: map[string]*item{}}
	applyDone := make(chan struct{})
	go func() { defer close(applyDone); s.applyLoop(ctx) }()
	for range s.opts.Concurrency {
		s.wg.Add(1)
		go s.worker(ctx)
	}
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		wait := time.Hour
		if len(ls.heap) > 0 {
			wait = max(time.Until(ls.heap[0].at), 0)
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			s.wg.Wait()
			close(s.results)
			<-applyDone
			return nil
		case <-s.wake:
			s.runQueued(ls)
			continue
		case <-timer.C:
		}
		s.dispatch(ctx, ls, s.popDue(ls))
	}
}

// Skipped is the number of probes skipped because the target's previous
// probe was still queued or running.
func (s *Scheduler) Skipped() int64 { return s.skipped.Load() }

// Dropped is the number of results dropped because their target was
// removed while it was probed.
func (s *Scheduler) Dropped() int64 { return s.dropped.Load() }
