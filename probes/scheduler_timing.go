package probes

import (
	"container/heap"
	"math/rand/v2"
	"time"
)

// The timing of the schedule: the loop's heap of planned probes, the
// random first offset, the fixed phase of interval probes, the extra
// (retry, watch) probes and the recovery backoff of bad targets.

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
