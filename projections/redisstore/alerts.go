package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// RecordTransition applies a transition to the alerts of its target (see
// projections.AlertStore for the rules and alertScript for how). A
// redelivered transition changes nothing. Resolved alerts older than
// Options.AlertRetention are pruned on the way. It implements
// projections.AlertStore.
func (s *Store) RecordTransition(ctx context.Context, sc events.StateChanged) error {
	fromBad := "0"
	if projections.Severity(sc.From) != "" {
		fromBad = "1"
	}
	cutoff := s.opts.Now().Add(-s.opts.AlertRetention).UnixMilli()
	err := alertScript.Run(ctx, s.rdb, []string{s.k.alerts()},
		sc.Target.Type, sc.Target.Name, sc.Epoch, sc.Seq, fromBad, projections.Severity(sc.To),
		sc.At.UnixMilli(), sc.Reason, cutoff).Err()
	if err != nil {
		return fmt.Errorf("redisstore: record transition: %w", err)
	}
	return nil
}

// Firing is the number of firing alerts.
func (s *Store) Firing(ctx context.Context) (int, error) {
	n, err := s.rdb.ZCard(ctx, s.k.alerts()+":firing").Result()
	if err != nil {
		return 0, fmt.Errorf("redisstore: count firing alerts: %w", err)
	}
	return int(n), nil
}

// Alerts answers an alert query, newest first: firing alerts by start
// time, resolved ones by resolution time, all of them by start time.
// Limit is clamped by projections.AlertQuery.ClampedLimit; an
// unknown state is an error wrapping projections.ErrBadQuery. Alerts
// resolved longer than Options.AlertRetention ago are left out.
func (s *Store) Alerts(ctx context.Context, q projections.AlertQuery) ([]projections.Alert, error) {
	limit := q.ClampedLimit()
	cutoff := s.opts.Now().Add(-s.opts.AlertRetention)
	a := s.k.alerts()
	out := []projections.Alert{}
	switch q.State {
	case projections.AlertFiring:
		ids, err := s.rdb.ZRevRange(ctx, a+":firing", 0, int64(limit-1)).Result()
		if err != nil {
			return nil, fmt.Errorf("redisstore: read alerts: %w", err)
		}
		return s.loadAlerts(ctx, ids, cutoff, out)
	case projections.AlertResolved:
		ids, err := s.rdb.ZRevRangeByScore(ctx, a+":resolved", &redis.ZRangeBy{
			Max: "+inf", Min: ms(cutoff), Count: int64(limit),
		}).Result()
		if err != nil {
			return nil, fmt.Errorf("redisstore: read alerts: %w", err)
		}
		return s.loadAlerts(ctx, ids, cutoff, out)
	case "", "all":
		for start := int64(0); len(out) < limit; {
			n := int64(limit - len(out) + 8)
			ids, err := s.rdb.ZRevRange(ctx, a+":all", start, start+n-1).Result()
			if err != nil {
				return nil, fmt.Errorf("redisstore: read alerts: %w", err)
			}
			start += int64(len(ids))
			if out, err = s.loadAlerts(ctx, ids, cutoff, out); err != nil {
				return nil, err
			}
			if int64(len(ids)) < n {
				break
			}
		}
		return out[:min(len(out), limit)], nil
	}
	return nil, fmt.Errorf("%w: alert state %q (want firing, resolved or all)", projections.ErrBadQuery, q.State)
}

// loadAlerts appends the alerts ids name to out, in order, leaving out
// missing ones and those resolved before cutoff.
func (s *Store) loadAlerts(ctx context.Context, ids []string, cutoff time.Time, out []projections.Alert) ([]projections.Alert, error) {
	if len(ids) == 0 {
		return out, nil
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HGetAll(ctx, s.k.alerts()+":a:"+id)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("redisstore: read alerts: %w", err)
	}
	for _, c := range cmds {
		h := c.Val()
		if h["id"] == "" {
			continue
		}
		al := projections.Alert{
			ID: h["id"], Type: h["type"], Name: h["name"], Severity: h["severity"],
			State: h["state"], Reason: h["reason"], StartedAt: msTime(h["started_at"]), End: h["end"],
		}
		al.Epoch, _ = strconv.ParseInt(h["epoch"], 10, 64)
		al.Seq, _ = strconv.ParseInt(h["seq"], 10, 64)
		if al.State == projections.AlertResolved {
			r := msTime(h["resolved_at"])
			if r.Before(cutoff) {
				continue
			}
			al.ResolvedAt = &r
		}
		out = append(out, al)
	}
	return out, nil
}

// msTime parses Unix milliseconds (zero time when malformed).
func msTime(s string) time.Time {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}
	}
	return time.UnixMilli(n).UTC()
}
