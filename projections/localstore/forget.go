package localstore

import (
	"cmp"
	"context"
	"errors"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// Forget removes a target that no longer exists: its status, history,
// rollups and transition state go (a target added again starts a new
// epoch), and its firing alerts are resolved now with reason "removed"
// (projections.ResolveRemoved). Events about it not newer than now are
// dropped for a day, so results still in flight do not bring it back.
func (s *Store) Forget(_ context.Context, kind, name string) error {
	id := kind + "/" + name
	now := s.now()
	s.mu.Lock()
	delete(s.st.status, id)
	s.pd.status[id] = nil
	delete(s.st.hist, id)
	s.pd.histMeta[id] = nil
	delete(s.st.machines, id)
	s.pd.machines[id] = nil
	for k := range s.st.roll {
		if k.id == id {
			delete(s.st.roll, k)
		}
	}
	s.pd.dropTarget(id)
	if ta := s.st.alerts[id]; ta != nil {
		rec := alertsRec{Frozen: projections.ResolveRemoved(ta.alerts, timeMS(now))}
		for _, t := range ta.log {
			if !rec.HasFloor || t.Epoch > rec.FloorE || (t.Epoch == rec.FloorE && t.Seq > rec.FloorS) {
				rec.HasFloor, rec.FloorE, rec.FloorS = true, t.Epoch, t.Seq
			}
		}
		if ta.rec.HasFloor && (!rec.HasFloor || ta.rec.FloorE > rec.FloorE || (ta.rec.FloorE == rec.FloorE && ta.rec.FloorS > rec.FloorS)) {
			rec.HasFloor, rec.FloorE, rec.FloorS = true, ta.rec.FloorE, ta.rec.FloorS
		}
		ta.log, ta.rec = nil, rec
		ta.derive()
		s.pd.alerts[id] = ptr(rec)
	}
	s.st.tombs[id] = now
	s.pd.tombs[id] = now
	s.mu.Unlock()
	s.kickFlush()
	return nil
}

// Targets lists every known target (one with a status or a history),
// sorted by type then name.
func (s *Store) Targets(_ context.Context) ([]events.TargetRef, error) {
	s.mu.Lock()
	seen := map[string]events.TargetRef{}
	for id, r := range s.st.status {
		seen[id] = events.TargetRef{Type: r.Type, Name: r.Name}
	}
	for id, m := range s.st.hist {
		seen[id] = events.TargetRef{Type: m.Type, Name: m.Name}
	}
	s.mu.Unlock()
	out := make([]events.TargetRef, 0, len(seen))
	for _, t := range seen {
		out = append(out, t)
	}
	slices.SortFunc(out, func(a, b events.TargetRef) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

// sweep enforces retention on disk: each target's history is cut to
// HistoryMaxEntries and HistoryRetention, rollups older than
// projections.RollupRetention and expired tombstones go, and alerts
// resolved longer than AlertRetention ago are pruned.
func (s *Store) sweep() {
	if err := s.flush(); err != nil {
		return
	}
	s.mu.Lock()
	now := s.now()
	for id, at := range s.st.tombs {
		if now-at > tombstoneTTL.Milliseconds() {
			delete(s.st.tombs, id)
			s.pd.tombs[id] = 0
		}
	}
	for id, ta := range s.st.alerts {
		s.pruneLocked(id, ta)
	}
	counts := map[string]int64{}
	for id, m := range s.st.hist {
		counts[id] = m.Count
	}
	s.mu.Unlock()
	cutoff, oldest, maxN := s.historyCutoff(), projections.OldestRollupHour(s.opts.Now()), int64(s.opts.HistoryMaxEntries)
	removed := map[string]int64{}
	s.flushMu.Lock()
	err := s.commit(func(b *pebble.Batch) error {
		for id, n := range counts {
			// The oldest entries go: those past the retention, then as many
			// as the bound leaves over.
			var end []byte
			k := int64(0)
			err := scan(s.db, tkey(nsHist, id), func(key, _ []byte) error {
				if n-k <= maxN && tailInt(key) >= cutoff {
					return errStop
				}
				k++
				end = append(end[:0], key...)
				return nil
			})
			if err != nil && !errors.Is(err, errStop) {
				return err
			}
			if k > 0 {
				if err := b.DeleteRange(tkey(nsHist, id), prefixEnd(end), nil); err != nil {
					return err
				}
				removed[id] = k
			}
			// Rollups older than the oldest hour kept.
			if err := b.DeleteRange(tkey(nsRoll, id), slotKey(nsRoll, id, oldest), nil); err != nil {
				return err
			}
		}
		return nil
	})
	s.flushMu.Unlock()
	if err != nil {
		s.log.Error("store retention sweep failed", "err", err)
		return
	}
	s.mu.Lock()
	for id, n := range removed {
		if m := s.st.hist[id]; m != nil {
			m.Count = max(m.Count-n, 0)
			s.pd.histMeta[id] = ptr(*m)
		}
	}
	s.mu.Unlock()
}

// historyLen is the number of history entries of target id on disk
// (tests).
func (s *Store) historyLen(id string) int {
	n := 0
	_ = scan(s.db, tkey(nsHist, id), func([]byte, []byte) error { n++; return nil })
	return n
}

// errStop ends a scan early.
var errStop = errors.New("stop")
