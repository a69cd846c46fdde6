package localstore

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"

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
	r.Add(projections.ContributionOfCheck(c))
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
	v, closer, err := s.db.Get(slotKey(nsRoll, k.id, k.hour))
	if errors.Is(err, pebble.ErrNotFound) {
		return projections.Rollup{Hour: timeMS(k.hour)}, nil
	}
	if err != nil {
		return projections.Rollup{}, fmt.Errorf("localstore: read rollup: %w", err)
	}
	defer closer.Close()
	return decodeRollup(k.hour, v), nil
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
func (s *Store) Metrics(ctx context.Context, kind, name string) (projections.TargetMetrics, error) {
	return projections.MetricsReader(s.metrics).One(ctx, kind, name)
}

// AllMetrics is the rolled-up metrics of every known target, sorted by
// type then name.
func (s *Store) AllMetrics(ctx context.Context) ([]projections.TargetMetrics, error) {
	return projections.MetricsReader(s.metrics).All(ctx, s.Targets, 0)
}

// metrics reads the rollups of the last RollupRetention of each target.
func (s *Store) metrics(_ context.Context, ts []events.TargetRef) ([]projections.TargetMetrics, error) {
	if err := s.flush(); err != nil {
		return nil, err
	}
	now := s.opts.Now()
	oldest := projections.OldestRollupHour(now)
	out := make([]projections.TargetMetrics, len(ts))
	for i, t := range ts {
		id := t.Subject()
		var rs []projections.Rollup
		if err := scanRange(s.db, slotKey(nsRoll, id, oldest), prefixEnd(tkey(nsRoll, id)), func(k, v []byte) error {
			rs = append(rs, decodeRollup(tailInt(k), v))
			return nil
		}); err != nil {
			return nil, err
		}
		out[i] = projections.Summarize(t.Type, t.Name, rs, now)
	}
	return out, nil
}

// rollupHours lists the hours (ms) of target id's rollups on disk (tests).
func (s *Store) rollupHours(id string) []int64 {
	var out []int64
	_ = scan(s.db, tkey(nsRoll, id), func(k, _ []byte) error {
		out = append(out, tailInt(k))
		return nil
	})
	return out
}
