package probes

import (
	"container/heap"
	"time"
)

// The commands of the loop: SetTargets and Trigger are called from any
// goroutine and queue a command that the Run goroutine executes on its
// loopState, in order.

// SetTargets replaces the scheduled set. New targets get a random first
// offset; targets whose interval did not change keep their phase. The
// targets are kept with their defaults filled in (Target.WithDefaults).
func (s *Scheduler) SetTargets(ts []Target) {
	// cur is never written after this: the loop reads it as its next set.
	cur := byID(ts)
	s.mu.Lock()
	s.current = cur
	for id := range s.recovery {
		if _, ok := cur[id]; !ok {
			delete(s.recovery, id)
		}
	}
	s.mu.Unlock()
	next := cur
	s.do(func(ls *loopState) {
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
