package probes

import (
	"container/heap"
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"
)

// Trigger says why a probe runs.
type Trigger string

// The reasons a probe runs.
const (
	TriggerSchedule Trigger = "schedule" // the target's interval came round
	TriggerRetry    Trigger = "retry"    // a transition is pending: confirm fast
	TriggerWatch    Trigger = "watch"    // a watcher saw the connection drop
	TriggerManual   Trigger = "manual"   // somebody asked through the API
)

// Due is a probe the scheduler wants to run now. Step is the width of the
// claim bucket: the target's interval for scheduled probes, the retry
// interval for the others, so that replicas racing for the same target run
// it once per bucket.
type Due struct {
	Target  Target
	Trigger Trigger
	Step    time.Duration
}

// Claim is a Claimer's answer for one Due: whether this replica won it and
// the slot (Unix milliseconds, from a clock shared by all replicas) that
// orders and fences the resulting check.
type Claim struct {
	Won  bool
	Slot int64
}

// Claimer decides, in one round trip for a whole batch, which due probes
// this replica runs. Manual probes are always won.
type Claimer interface {
	Claim(ctx context.Context, due []Due) ([]Claim, error)
}

// Check is one probe result with the slot it was claimed for.
type Check struct {
	Result  Result
	Slot    int64
	Trigger Trigger
}

// Outcome is what applying a check decided. Pending means a transition is
// started but not yet confirmed: the scheduler re-probes at the retry
// interval until it is decided. Bad means the target's state is DOWN or
// DEGRADED: with SchedulerOptions.RecoveryBackoff it is re-probed sooner
// than its interval, so a recovery is seen within seconds. Refused means
// the check was not applied because it would have added a transition to
// a full outbox (OUTBOX_MAX_LENGTH): like a failed apply, the target is
// probed again at the retry interval, and the transition is made once the
// outbox has drained.
type Outcome struct {
	Pending bool
	Bad     bool
	Refused bool
}

// Sink applies a batch of checks and reports an outcome per check, in order.
type Sink interface {
	Apply(ctx context.Context, checks []Check) ([]Outcome, error)
}

// Prober probes a target by id. *Manager implements it.
type Prober interface {
	Probe(ctx context.Context, id string) (Result, error)
}

// SchedulerOptions configure a Scheduler. Zero values take the defaults.
type SchedulerOptions struct {
	// Concurrency caps probes running at once (default 64).
	Concurrency int
	// RetryInterval is how soon a pending transition is re-probed, and the
	// claim bucket of retry, watch and manual probes (default 1s).
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

// job is one won probe waiting for a worker.
type job struct {
	id      string
	trigger Trigger
	slot    int64
}

// maxQueued bounds the probes waiting for a worker; one per target at most.
const maxQueued = 1 << 14

// NewScheduler returns a scheduler; call SetTargets and Run.
func NewScheduler(p Prober, c Claimer, s Sink, opts SchedulerOptions) *Scheduler {
	if opts.Concurrency <= 0 {
		opts.Concurrency = 64
	}
	if opts.RetryInterval <= 0 {
		opts.RetryInterval = time.Second
	}
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

// item is one planned probe in the loop's heap.
type item struct {
	id      string
	at      time.Time
	trigger Trigger
	index   int
}

type itemHeap []*item

func (h itemHeap) Len() int           { return len(h) }
func (h itemHeap) Less(i, j int) bool { return h[i].at.Before(h[j].at) }
func (h itemHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i]; h[i].index = i; h[j].index = j }
func (h *itemHeap) Push(x any)        { it := x.(*item); it.index = len(*h); *h = append(*h, it) }
func (h *itemHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	*h = old[:len(old)-1]
	it.index = -1
	return it
}

// loopState is owned by the Run goroutine.
type loopState struct {
	targets   map[string]Target
	scheduled map[string]*item // the one interval item per target
	extra     map[string]*item // at most one retry/watch item per target
	heap      itemHeap
}

// SetTargets replaces the scheduled set. New targets get a random first
// offset; targets whose interval did not change keep their phase.
func (s *Scheduler) SetTargets(ts []Target) {
	cur := make(map[string]Target, len(ts))
	for _, t := range ts {
		cur[t.ID()] = t
	}
	s.mu.Lock()
	s.current = cur
	for id := range s.recovery {
		if _, ok := cur[id]; !ok {
			delete(s.recovery, id)
		}
	}
	s.mu.Unlock()
	s.do(func(ls *loopState) {
		next := make(map[string]Target, len(ts))
		for _, t := range ts {
			next[t.ID()] = t
		}
		for id, it := range ls.scheduled {
			if _, ok := next[id]; !ok {
				heap.Remove(&ls.heap, it.index)
				delete(ls.scheduled, id)
				if x := ls.extra[id]; x != nil {
					heap.Remove(&ls.heap, x.index)
					delete(ls.extra, id)
				}
			}
		}
		now := time.Now()
		for id, t := range next {
			old, had := ls.targets[id]
			ls.targets[id] = t
			if had && old.Interval == t.Interval {
				continue
			}
			if it := ls.scheduled[id]; it != nil {
				heap.Remove(&ls.heap, it.index)
			}
			it := &item{id: id, at: now.Add(s.firstDelay(t)), trigger: TriggerSchedule}
			ls.scheduled[id] = it
			heap.Push(&ls.heap, it)
		}
		for id := range ls.targets {
			if _, ok := next[id]; !ok {
				delete(ls.targets, id)
			}
		}
	})
}

// Trigger asks for a probe of target id soon (a watcher saw it drop). It
// never blocks; triggers for a target already waiting for one coalesce.
func (s *Scheduler) Trigger(id string, why Trigger) { s.triggerAt(id, why, 0) }

func (s *Scheduler) triggerAt(id string, why Trigger, after time.Duration) {
	s.do(func(ls *loopState) {
		if _, ok := ls.targets[id]; !ok {
			return
		}
		at := time.Now().Add(after)
		if x := ls.extra[id]; x != nil {
			if at.Before(x.at) {
				x.at = at
				heap.Fix(&ls.heap, x.index)
			}
			return
		}
		it := &item{id: id, at: at, trigger: why}
		ls.extra[id] = it
		heap.Push(&ls.heap, it)
	})
}

// do queues a command for the loop without blocking; commands are never
// dropped (a target set must not be lost behind triggers).
func (s *Scheduler) do(f func(*loopState)) {
	s.cmdMu.Lock()
	s.queued = append(s.queued, f)
	s.cmdMu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// runQueued runs the queued commands in order.
func (s *Scheduler) runQueued(ls *loopState) {
	s.cmdMu.Lock()
	cmds := s.queued
	s.queued = nil
	s.cmdMu.Unlock()
	for _, f := range cmds {
		f(ls)
	}
}

func (s *Scheduler) firstDelay(t Target) time.Duration {
	spread := s.opts.FirstSpread
	if spread <= 0 {
		spread = min(t.Interval, 5*time.Second)
	}
	if spread <= 0 {
		return 0
	}
	return rand.N(spread)
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

// popDue takes every item due within a few milliseconds and reschedules
// the interval items.
func (s *Scheduler) popDue(ls *loopState) []Due {
	now := time.Now()
	horizon := now.Add(5 * time.Millisecond)
	var due []Due
	for len(ls.heap) > 0 && !ls.heap[0].at.After(horizon) {
		it := ls.heap[0]
		t := ls.targets[it.id]
		if it.trigger == TriggerSchedule {
			// A fixed phase, not a random walk: the random first offset
			// spreads targets and replicas, and keeping it means each
			// replica tries each claim bucket exactly once.
			next := it.at.Add(t.Interval)
			for !next.After(now) { // we fell behind: skip missed runs
				next = next.Add(t.Interval)
			}
			it.at = next
			heap.Fix(&ls.heap, it.index)
			due = append(due, Due{Target: t, Trigger: TriggerSchedule, Step: t.Interval})
			continue
		}
		heap.Pop(&ls.heap)
		delete(ls.extra, it.id)
		due = append(due, Due{Target: t, Trigger: it.trigger, Step: s.opts.RetryInterval})
	}
	return due
}

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

// triggerAtLocked is triggerAt from inside the loop.
func (s *Scheduler) triggerAtLocked(ls *loopState, id string, why Trigger, after time.Duration) {
	if why == TriggerSchedule {
		why = TriggerRetry
	}
	if ls.extra[id] != nil {
		return
	}
	it := &item{id: id, at: time.Now().Add(after), trigger: why}
	ls.extra[id] = it
	heap.Push(&ls.heap, it)
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

// Skipped is the number of probes skipped because the target's previous
// probe was still queued or running.
func (s *Scheduler) Skipped() int64 { return s.skipped.Load() }

// Batching of results: the sink costs one store round trip per batch.
const (
	applyBatch = 256
	// applyLinger is how long a batch waits for more results after its
	// first one; probes finish spread over time, and a few milliseconds
	// turn one round trip per check into one per batch.
	applyLinger = 10 * time.Millisecond
)

// applyLoop hands results to the sink in batches and schedules re-probes
// for pending transitions. Manual and watch-triggered checks are applied
// without waiting.
func (s *Scheduler) applyLoop(ctx context.Context) {
	batch := make([]Check, 0, applyBatch)
	linger := time.NewTimer(time.Hour)
	linger.Stop()
	for c := range s.results {
		batch = append(batch[:0], c)
		urgent := c.Trigger != TriggerSchedule
		linger.Reset(applyLinger)
	fill:
		for len(batch) < applyBatch && !urgent {
			select {
			case c, ok := <-s.results:
				if !ok {
					break fill
				}
				batch = append(batch, c)
				urgent = c.Trigger != TriggerSchedule
			case <-linger.C:
				break fill
			}
		}
		linger.Stop()
		s.apply(context.WithoutCancel(ctx), batch)
	}
}

func (s *Scheduler) apply(ctx context.Context, batch []Check) {
	batch = s.configured(batch)
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	outs, err := s.sink.Apply(ctx, batch)
	if err != nil {
		// Their results are not recorded; probe these targets again as
		// soon as the store answers.
		s.logs.every(s.log, "apply", "applying checks failed; probing again soon", "err", err, "checks", len(batch))
		for _, c := range batch {
			s.triggerAt(c.Result.Target.ID(), TriggerRetry, s.opts.RetryInterval)
		}
		return
	}
	for i, o := range outs {
		if i < len(batch) {
			s.followUp(batch[i].Result.Target.ID(), o)
		}
	}
}

// configured drops results of targets removed while they were probed.
func (s *Scheduler) configured(batch []Check) []Check {
	s.mu.Lock()
	defer s.mu.Unlock()
	kept := batch[:0]
	for _, c := range batch {
		if _, ok := s.current[c.Result.Target.ID()]; ok {
			kept = append(kept, c)
		} else {
			s.dropped.Add(1)
		}
	}
	return kept
}

// followUp schedules what an outcome asks for: a pending transition is
// confirmed, and a refused check probed again, at the retry interval; a
// bad target is re-probed on the recovery backoff.
func (s *Scheduler) followUp(id string, o Outcome) {
	if o.Pending || o.Refused {
		s.triggerAt(id, TriggerRetry, s.opts.RetryInterval)
		return
	}
	if !s.opts.RecoveryBackoff {
		return
	}
	s.mu.Lock()
	t, known := s.current[id]
	if !o.Bad || !known {
		delete(s.recovery, id)
		s.mu.Unlock()
		return
	}
	d := s.recovery[id]
	if d == 0 {
		d = s.opts.RetryInterval
	}
	if t.Interval > 0 {
		d = min(d, t.Interval)
	}
	s.recovery[id] = min(2*d, max(t.Interval, s.opts.RetryInterval))
	s.mu.Unlock()
	if t.Interval <= 0 || d < t.Interval {
		s.triggerAt(id, TriggerRetry, d)
	}
}

// Dropped is the number of results dropped because their target was
// removed while it was probed.
func (s *Scheduler) Dropped() int64 { return s.dropped.Load() }

// rateLog logs a repeated failure at most once every rateLogEvery per
// kind, with the count of occurrences since the last line.
type rateLog struct {
	mu   sync.Mutex
	last map[string]time.Time
	n    map[string]int
}

const rateLogEvery = 10 * time.Second

func (r *rateLog) every(log *slog.Logger, kind, msg string, args ...any) {
	r.mu.Lock()
	if r.last == nil {
		r.last, r.n = map[string]time.Time{}, map[string]int{}
	}
	r.n[kind]++
	now := time.Now()
	if now.Sub(r.last[kind]) < rateLogEvery {
		r.mu.Unlock()
		return
	}
	n := r.n[kind]
	r.last[kind], r.n[kind] = now, 0
	r.mu.Unlock()
	log.Error(msg, append(args, "times", n)...)
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
