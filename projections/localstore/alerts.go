package localstore

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// RecordTransition applies a transition to the alerts of its target: it
// joins the target's log, and the alerts are projections.Incidents of the
// log. A redelivered transition, or one at or below the floor of pruned
// and removed incidents, changes nothing. It implements
// projections.AlertStore.
func (s *Store) RecordTransition(_ context.Context, sc events.StateChanged) error {
	return s.putTransition(sc, s.recordTransitionLocked)
}

func (s *Store) recordTransitionLocked(sc events.StateChanged) {
	id := sc.Target.Subject()
	ta := s.st.alertsOf(id)
	if r := ta.rec; r.HasFloor && (sc.Epoch < r.FloorE || (sc.Epoch == r.FloorE && sc.Seq <= r.FloorS)) {
		return
	}
	if slices.ContainsFunc(ta.log, func(t projections.Transition) bool { return t.Epoch == sc.Epoch && t.Seq == sc.Seq }) {
		return
	}
	t := projections.TransitionOf(sc.Epoch, sc.Seq, sc.From, sc.To, sc.At, sc.Reason)
	ta.log = append(ta.log, t)
	s.pd.tlog[id] = append(s.pd.tlog[id], t)
	ta.derive()
	for id, ta := range s.st.alerts {
		s.pruneLocked(id, ta)
	}
}

// pruneLocked drops the target's alerts resolved longer than
// AlertRetention ago, with the transitions up to their end, and raises the
// floor over them.
func (s *Store) pruneLocked(id string, ta *targetAlerts) {
	cutoff := s.opts.Now().Add(-s.opts.AlertRetention)
	old := func(a projections.Alert) bool {
		return a.State == projections.AlertResolved && a.ResolvedAt != nil && a.ResolvedAt.Before(cutoff)
	}
	changed := false
	for _, a := range ta.alerts {
		if !old(a) || a.End == projections.EndRemoved {
			continue
		}
		e, seq := a.Epoch, int64(math.MaxInt64)
		if a.End == projections.EndSeq {
			seq = resolvingSeq(ta.log, a)
		}
		if !ta.rec.HasFloor || e > ta.rec.FloorE || (e == ta.rec.FloorE && seq > ta.rec.FloorS) {
			ta.rec.HasFloor, ta.rec.FloorE, ta.rec.FloorS = true, e, seq
		}
		changed = true
	}
	if n := len(ta.rec.Frozen); n > 0 {
		ta.rec.Frozen = slices.DeleteFunc(slices.Clone(ta.rec.Frozen), old)
		changed = changed || len(ta.rec.Frozen) != n
	}
	if !changed {
		return
	}
	r := ta.rec
	ta.log = slices.DeleteFunc(ta.log, func(t projections.Transition) bool {
		return r.HasFloor && (t.Epoch < r.FloorE || (t.Epoch == r.FloorE && t.Seq <= r.FloorS))
	})
	if r.HasFloor {
		s.pd.tlog[id] = slices.DeleteFunc(s.pd.tlog[id], func(t projections.Transition) bool {
			return t.Epoch < r.FloorE || (t.Epoch == r.FloorE && t.Seq <= r.FloorS)
		})
		s.pd.tlogDel = append(s.pd.tlogDel, tlogDel{id: id, epoch: r.FloorE, seq: r.FloorS})
	}
	s.pd.alerts[id] = ptr(ta.rec)
	ta.derive()
}

// resolvingSeq is the seq of the transition that resolved a (the first
// one into UP after its opener).
func resolvingSeq(log []projections.Transition, a projections.Alert) int64 {
	best := int64(math.MaxInt64)
	for _, t := range log {
		if t.Epoch == a.Epoch && t.Seq > a.Seq && !projections.Bad(t.To) && t.Seq < best {
			best = t.Seq
		}
	}
	return best
}

// Firing is the number of firing alerts.
func (s *Store) Firing(_ context.Context) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, ta := range s.st.alerts {
		for _, a := range ta.alerts {
			if a.State == projections.AlertFiring {
				n++
			}
		}
	}
	return n, nil
}

// Alerts answers an alert query, newest first: firing alerts by start
// time, resolved ones by resolution time, all of them by start time.
// Limit is clamped by projections.AlertQuery.ClampedLimit; an
// unknown state is an error wrapping projections.ErrBadQuery. Alerts
// resolved longer than Options.AlertRetention ago are left out.
func (s *Store) Alerts(_ context.Context, q projections.AlertQuery) ([]projections.Alert, error) {
	limit := q.ClampedLimit()
	var keep func(projections.Alert) bool
	switch q.State {
	case projections.AlertFiring:
		keep = func(a projections.Alert) bool { return a.State == projections.AlertFiring }
	case projections.AlertResolved:
		keep = func(a projections.Alert) bool { return a.State == projections.AlertResolved }
	case "", "all":
		keep = func(projections.Alert) bool { return true }
	default:
		return nil, fmt.Errorf("%w: alert state %q (want firing, resolved or all)", projections.ErrBadQuery, q.State)
	}
	cutoff := s.opts.Now().Add(-s.opts.AlertRetention)
	out := []projections.Alert{}
	s.mu.Lock()
	for _, ta := range s.st.alerts {
		for _, a := range ta.alerts {
			if keep(a) && (a.ResolvedAt == nil || !a.ResolvedAt.Before(cutoff)) {
				out = append(out, a)
			}
		}
	}
	s.mu.Unlock()
	if q.State == projections.AlertResolved {
		slices.SortFunc(out, func(a, b projections.Alert) int {
			if c := b.ResolvedAt.Compare(*a.ResolvedAt); c != 0 {
				return c
			}
			return b.StartedAt.Compare(a.StartedAt)
		})
	} else {
		projections.SortAlerts(out)
	}
	return out[:min(len(out), limit)], nil
}
