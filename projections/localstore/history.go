package localstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/cockroachdb/pebble/v2"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// AppendCheck records c in its target's history and hourly rollups, once
// per slot: a redelivered check changes nothing, and a check older than
// the newest one (a slow probe finishing late) takes its place in the
// history. A check older than the history retention is dropped. It
// implements projections.HistoryStore.
func (s *Store) AppendCheck(_ context.Context, c events.HealthChecked) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appendCheckLocked(c)
}

func (s *Store) appendCheckLocked(c events.HealthChecked) error {
	id := c.Target.Subject()
	if s.tombstonedLocked(id, c.Slot) || c.Slot < s.historyCutoff() {
		return nil
	}
	m := s.st.hist[id]
	switch {
	case m == nil:
		m = &histMeta{Type: c.Target.Type, Name: c.Target.Name}
		s.st.hist[id] = m
	case c.Slot == m.Newest:
		return nil
	case c.Slot < m.Newest:
		dup, err := s.inHistoryLocked(id, c.Slot)
		if err != nil || dup {
			return err
		}
	}
	v := historyValue{State: c.State, CheckedAt: c.CheckedAt.UnixNano(), LatencyMS: c.LatencyMS,
		ErrorKind: c.ErrorKind, Error: c.Error, Prober: c.Prober}.encode()
	s.pd.hist[id] = append(s.pd.hist[id], histPut{slot: c.Slot, val: v})
	m.Count++
	m.Newest = max(m.Newest, c.Slot)
	s.pd.histMeta[id] = ptr(*m)
	return s.rollLocked(id, c)
}

// inHistoryLocked reports whether target id has a history entry at slot,
// pending or on disk.
func (s *Store) inHistoryLocked(id string, slot int64) (bool, error) {
	for _, pd := range []*pending{s.pd, s.flushing} {
		if pd == nil {
			continue
		}
		for _, h := range pd.hist[id] {
			if h.slot == slot {
				return true, nil
			}
		}
	}
	return s.has(slotKey(nsHist, id, slot))
}

// has reports whether key is on disk.
func (s *Store) has(key []byte) (bool, error) {
	_, closer, err := s.db.Get(key)
	if errors.Is(err, pebble.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("localstore: %w", err)
	}
	return true, closer.Close()
}

// History answers a history query (see projections.PlanHistory): the
// checks of one target, or of every target of a kind merged, newest first.
func (s *Store) History(_ context.Context, q projections.HistoryQuery) (projections.HistoryPage, error) {
	s.mu.Lock()
	var names []string
	for _, m := range s.st.hist {
		if m.Type == q.Type {
			names = append(names, m.Name)
		}
	}
	s.mu.Unlock()
	plan, err := projections.PlanHistory(q, names)
	if err != nil {
		return projections.HistoryPage{Items: []projections.HistoryItem{}}, err
	}
	if err := s.flush(); err != nil {
		return projections.HistoryPage{Items: []projections.HistoryItem{}}, err
	}
	return plan.Merge(func(need []*projections.HistoryStream) error {
		for _, st := range need {
			es, err := s.readBack(plan.Kind, st)
			if err != nil {
				return err
			}
			st.Took(es)
		}
		return nil
	})
}

// readBack reads up to st.Chunk entries of st's target with slots in
// [st.Lo, st.Hi], newest first.
func (s *Store) readBack(kind string, st *projections.HistoryStream) ([]projections.HistoryEntry, error) {
	id := kind + "/" + st.Name
	upper := prefixEnd(tkey(nsHist, id))
	if st.Hi < int64(^uint64(0)>>1) {
		upper = slotKey(nsHist, id, st.Hi+1)
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: slotKey(nsHist, id, max(st.Lo, 0)), UpperBound: upper})
	if err != nil {
		return nil, fmt.Errorf("localstore: %w", err)
	}
	defer it.Close()
	var out []projections.HistoryEntry
	for it.Last(); it.Valid() && int64(len(out)) < st.Chunk; it.Prev() {
		slot := tailInt(it.Key())
		h, err := decodeHistory(it.Value())
		if err != nil {
			return nil, fmt.Errorf("localstore: history %s@%d: %w", id, slot, err)
		}
		out = append(out, projections.HistoryEntry{Slot: slot, Item: projections.HistoryItem{
			Type: kind, Name: st.Name, State: h.State, CheckedAt: time.Unix(0, h.CheckedAt).UTC(), LatencyMS: h.LatencyMS,
			ErrorKind: h.ErrorKind, Error: h.Error, Prober: h.Prober,
		}})
	}
	return out, it.Error()
}

// ProjectChecks records a batch of checks in the status, the history and
// the rollups, each as PutCheck and AppendCheck would. It implements
// projections.CheckStore.
func (s *Store) ProjectChecks(_ context.Context, hs []events.HealthChecked) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range hs {
		s.putCheckLocked(c)
		if err := s.appendCheckLocked(c); err != nil {
			return err
		}
	}
	return nil
}
