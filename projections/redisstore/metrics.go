package redisstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// metricsBatch is how many targets AllMetrics reads per round trip.
const metricsBatch = 200

// Metrics is the rolled-up metrics of one target at Options.Now (see
// projections.Summarize); a target without checks has nil uptimes.
func (s *Store) Metrics(ctx context.Context, kind, name string) (projections.TargetMetrics, error) {
	return projections.MetricsReader(s.metrics).One(ctx, kind, name)
}

// AllMetrics is the rolled-up metrics of every known target, sorted by
// type then name.
func (s *Store) AllMetrics(ctx context.Context) ([]projections.TargetMetrics, error) {
	return projections.MetricsReader(s.metrics).All(ctx, s.Targets, metricsBatch)
}

// metrics reads the rollups of the targets in one pipelined round trip.
func (s *Store) metrics(ctx context.Context, ts []events.TargetRef) ([]projections.TargetMetrics, error) {
	now := s.opts.Now()
	hour := time.Hour.Milliseconds()
	last := now.UnixMilli() - now.UnixMilli()%hour
	var hours []int64
	for h := last - 7*24*hour; h <= last; h += hour {
		hours = append(hours, h)
	}
	histFrom := last - 24*hour
	fields := make([]string, 0, len(hours)+25)
	for _, h := range hours {
		fields = append(fields, strconv.FormatInt(h, 10))
	}
	for _, h := range hours {
		if h >= histFrom {
			fields = append(fields, strconv.FormatInt(h, 10)+":h")
		}
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(ts))
	for i, t := range ts {
		cmds[i] = pipe.HMGet(ctx, s.k.roll(t.Type, t.Name), fields...)
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("redisstore: read rollups: %w", err)
	}
	out := make([]projections.TargetMetrics, len(ts))
	for i, t := range ts {
		vals := cmds[i].Val()
		rs := make([]projections.Rollup, 0, 8)
		hi := len(hours)
		for j, h := range hours {
			v, _ := vals[j].(string)
			if v == "" {
				continue
			}
			c := ints(v, 6)
			r := projections.Rollup{Hour: time.UnixMilli(h), Checks: c[0], Up: c[1], Degraded: c[2], Down: c[3], Errors: c[4],
				MaxLatencyMS: float64(c[5]) / 1000}
			if h >= histFrom {
				if hv, _ := vals[hi+int((h-histFrom)/hour)].(string); hv != "" {
					r.Latency = ints(hv, projections.LatencyBuckets)
				}
			}
			rs = append(rs, r)
		}
		out[i] = projections.Summarize(t.Type, t.Name, rs, now)
	}
	return out, nil
}

// ints parses n space-separated integers (missing ones are 0).
func ints(s string, n int) []int64 {
	out := make([]int64, n)
	for i, f := range strings.Fields(s) {
		if i == n {
			break
		}
		out[i], _ = strconv.ParseInt(f, 10, 64)
	}
	return out
}
