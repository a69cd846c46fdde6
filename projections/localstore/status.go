package localstore

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// PutCheck records c as the last check of its target unless a check with
// the same or a newer slot is recorded. It implements
// projections.StatusStore.
func (s *Store) PutCheck(_ context.Context, c events.HealthChecked) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.putCheckLocked(c)
	return nil
}

// PutTransition records the state sc moved its target to unless a
// transition with the same or a greater (epoch, seq) is recorded, and its
// deciding check as for PutCheck. It implements projections.StatusStore.
func (s *Store) PutTransition(_ context.Context, sc events.StateChanged) error {
	return s.putTransition(sc, s.putTransitionLocked)
}

// tombstoned reports whether an event at ms about id predates its Forget.
func (s *Store) tombstonedLocked(id string, ms int64) bool {
	tomb, ok := s.st.tombs[id]
	return ok && ms <= tomb
}

func (s *Store) statusLocked(t events.TargetRef) *statusRec {
	id := t.Subject()
	r := s.st.status[id]
	if r == nil {
		r = &statusRec{Type: t.Type, Name: t.Name}
		s.st.status[id] = r
	}
	return r
}

func (s *Store) putCheckLocked(c events.HealthChecked) {
	id := c.Target.Subject()
	if s.tombstonedLocked(id, c.Slot) {
		return
	}
	if r := s.st.status[id]; r != nil && r.HasCheck && c.Slot <= r.Slot {
		return
	}
	r := s.statusLocked(c.Target)
	r.HasCheck, r.Slot, r.CheckedAt = true, c.Slot, c.CheckedAt.UnixNano()
	r.LatencyMS, r.ErrorKind, r.Error, r.Prober, r.Details = c.LatencyMS, c.ErrorKind, c.Error, c.Prober, c.Details
	s.pd.status[id] = ptr(*r)
}

func (s *Store) putTransitionLocked(sc events.StateChanged) {
	id := sc.Target.Subject()
	if !s.tombstonedLocked(id, sc.At.UnixMilli()) {
		r := s.st.status[id]
		if r == nil || !r.HasState || sc.Epoch > r.Epoch || (sc.Epoch == r.Epoch && sc.Seq > r.Seq) {
			r = s.statusLocked(sc.Target)
			r.HasState, r.Epoch, r.Seq = true, sc.Epoch, sc.Seq
			r.State, r.Since, r.Reason = sc.To, sc.At.UnixNano(), sc.Reason
			s.pd.status[id] = ptr(*r)
		}
	}
	if sc.Check.Slot > 0 {
		s.putCheckLocked(sc.Check)
	}
}

// Statuses is the current status of every known target, sorted by type
// then name. A target without a transition yet is UNKNOWN.
func (s *Store) Statuses(_ context.Context) ([]projections.TargetStatus, error) {
	return s.statuses(func(*statusRec) bool { return true }), nil
}

// StatusesOf is the current status of every known target of kind, sorted
// by name.
func (s *Store) StatusesOf(_ context.Context, kind string) ([]projections.TargetStatus, error) {
	return s.statuses(func(r *statusRec) bool { return r.Type == kind }), nil
}

func (s *Store) statuses(keep func(*statusRec) bool) []projections.TargetStatus {
	s.mu.Lock()
	out := make([]projections.TargetStatus, 0, len(s.st.status))
	for _, r := range s.st.status {
		if keep(r) {
			out = append(out, r.view())
		}
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b projections.TargetStatus) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// view is the read-model form of the record.
func (r *statusRec) view() projections.TargetStatus {
	ts := projections.TargetStatus{Type: r.Type, Name: r.Name, State: projections.StateUnknown, Details: r.Details, Projected: true}
	if r.HasState {
		since := time.Unix(0, r.Since).UTC()
		ts.State, ts.Since, ts.Reason, ts.Epoch, ts.Seq = r.State, &since, r.Reason, r.Epoch, r.Seq
	}
	if r.HasCheck {
		at := time.Unix(0, r.CheckedAt).UTC()
		ts.CheckedAt, ts.Slot, ts.LatencyMS = &at, r.Slot, r.LatencyMS
		ts.ErrorKind, ts.Error, ts.Prober = r.ErrorKind, r.Error, r.Prober
	}
	ts.Details = events.DetailsOrEmpty(ts.Details)
	return ts
}

// ptr is a pointer to a copy of v (pending changes never share memory
// with the live state, which changes while a commit is written).
func ptr[T any](v T) *T { return &v }

func timeMS(ms int64) time.Time { return time.UnixMilli(ms).UTC() }
