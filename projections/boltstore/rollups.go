package boltstore

import (
	"bytes"
	"context"
	"slices"

	bolt "go.etcd.io/bbolt"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// rollLocked counts c in its hour's rollup (projections.Rollup.Add). An
// hour older than the rollups keep is not counted.
func (s *Store) rollLocked(id string, c events.HealthChecked) error {
	hour := projections.HourOf(c.Slot)
	if hour < projections.OldestRollupHour(s.opts.Now()) {
		return nil
	}
	k := rollKey{id: id, hour: hour}
	r := s.st.roll[k]
	if r == nil {
		cur, err := s.loadRollupLocked(k)
		if err != nil {
			return err
		}
		r = &cur
		s.st.roll[k] = r
	}
	r.Add(projections.ContributionOf(c.State, c.LatencyMS, c.Error != "" || c.ErrorKind != ""))
	cp := *r
	cp.Latency = slices.Clone(r.Latency)
	s.pd.roll[k] = cp
	return nil
}

// loadRollupLocked reads a rollup that is not in the cache: pending, or on
// disk, or a new one.
func (s *Store) loadRollupLocked(k rollKey) (projections.Rollup, error) {
	for _, pd := range []*pending{s.pd, s.flushing} {
		if pd == nil {
			continue
		}
		if r, ok := pd.roll[k]; ok {
			r.Latency = slices.Clone(r.Latency)
			return r, nil
		}
	}
	r := projections.Rollup{Hour: timeMS(k.hour)}
	err := s.db.View(func(tx *bolt.Tx) error {
		if v := tx.Bucket(bRoll).Get(slotKey(k.id, k.hour)); v != nil {
			r = decodeRollup(k.hour, v)
		}
		return nil
	})
	return r, err
}

// evictRollupsLocked drops cached rollups of hours before the current one
// (they are on disk, or pending and found there).
func (s *Store) evictRollupsLocked() {
	hour := projections.HourOf(s.now())
	for k := range s.st.roll {
		if k.hour < hour {
			delete(s.st.roll, k)
		}
	}
}

// Metrics is the rolled-up metrics of one target at Options.Now (see
// projections.Summarize); a target without checks has nil uptimes.
func (s *Store) Metrics(_ context.Context, kind, name string) (projections.TargetMetrics, error) {
	ms, err := s.metrics([]events.TargetRef{{Type: kind, Name: name}})
	if err != nil {
		return projections.TargetMetrics{}, err
	}
	return ms[0], nil
}

// AllMetrics is the rolled-up metrics of every known target, sorted by
// type then name.
func (s *Store) AllMetrics(ctx context.Context) ([]projections.TargetMetrics, error) {
	ts, err := s.Targets(ctx)
	if err != nil {
		return nil, err
	}
	return s.metrics(ts)
}

// metrics reads the rollups of the last RollupRetention of each target.
func (s *Store) metrics(ts []events.TargetRef) ([]projections.TargetMetrics, error) {
	if err := s.flush(); err != nil {
		return nil, err
	}
	now := s.opts.Now()
	oldest := projections.OldestRollupHour(now)
	out := make([]projections.TargetMetrics, len(ts))
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bRoll).Cursor()
		for i, t := range ts {
			id := t.Subject()
			prefix := tkey(id)
			var rs []projections.Rollup
			for k, v := c.Seek(slotKey(id, oldest)); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
				rs = append(rs, decodeRollup(tailInt(k), v))
			}
			out[i] = projections.Summarize(t.Type, t.Name, rs, now)
		}
		return nil
	})
	return out, err
}

// rollupHours lists the hours (ms) of target id's rollups on disk (tests).
func (s *Store) rollupHours(id string) []int64 {
	var out []int64
	_ = s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bRoll).Cursor()
		prefix := tkey(id)
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			out = append(out, tailInt(k))
		}
		return nil
	})
	return out
}
