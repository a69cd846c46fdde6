package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// checksScript projects a batch of checks, in order, each as PutCheck and
// AppendCheck would (put_status and append_check, the same Lua), in one
// script call: one round trip and one script invocation per batch.
//
// ARGV: 1 key prefix, 2 history maxlen, 3 minid, 4 oldest rollup hour,
// 5 rollup ttl, 6 latency buckets, 7 stream ttl; then per check 9 fields:
// kind, name, slot, status check value, history item, hour, counter
// increments, latency bucket (1-based), latency (us).
var checksScript = redis.NewScript(luaStatus + luaAppend + `
local P = ARGV[1]
for i = 8, #ARGV, 9 do
  local kind, name, slot = ARGV[i], ARGV[i+1], ARGV[i+2]
  local t = kind .. '/' .. name
  local kinds, names, gone = P .. ':kinds', P .. ':names:' .. kind, P .. ':gone:' .. t
  put_status({P .. ':status:' .. kind, kinds, names, gone}, {kind, name, '0', '0', '', slot, ARGV[i+3], '0'})
  local r = append_check({P .. ':hist:' .. t, P .. ':roll:' .. t, kinds, names, gone, P .. ':late:' .. t},
    {kind, name, slot, ARGV[i+4], ARGV[2], ARGV[3], ARGV[i+5], ARGV[i+6], ARGV[i+7], ARGV[i+8], ARGV[4], ARGV[5], ARGV[6], ARGV[7]})
  if type(r) == 'table' and r.err then return r end
end
return 1
`)

// ProjectChecks records a batch of checks in the status, the history and
// the rollups in one round trip: each exactly as PutCheck and AppendCheck
// would. It implements projections.CheckStore.
func (s *Store) ProjectChecks(ctx context.Context, hs []events.HealthChecked) error {
	if len(hs) == 0 {
		return nil
	}
	now := s.opts.Now()
	args := make([]any, 0, 7+9*len(hs))
	args = append(args, s.opts.Prefix, s.opts.HistoryMaxEntries, now.Add(-s.opts.HistoryRetention).UnixMilli(),
		projections.OldestRollupHour(now), projections.RollupRetention.Milliseconds(), projections.LatencyBuckets,
		s.opts.HistoryRetention.Milliseconds())
	for _, c := range hs {
		item, err := historyItem(c)
		if err != nil {
			return err
		}
		args = append(args, c.Target.Type, c.Target.Name, c.Slot, checkField(c), item)
		args = append(args, rollupArgs(c)...)
	}
	if err := checksScript.Run(ctx, s.rdb, nil, args...).Err(); err != nil {
		return fmt.Errorf("redisstore: project %d checks: %w", len(hs), err)
	}
	return nil
}

// historyItem is the stream entry body of a check.
func historyItem(c events.HealthChecked) ([]byte, error) {
	b, err := json.Marshal(historyValue{
		State: c.State, CheckedAt: c.CheckedAt.UTC(), LatencyMS: c.LatencyMS,
		ErrorKind: c.ErrorKind, Error: c.Error, Prober: c.Prober,
	})
	if err != nil {
		return nil, fmt.Errorf("redisstore: marshal history: %w", err)
	}
	return b, nil
}

// rollupArgs are the script arguments of what c adds to its hour's
// rollup: the hour (ms), the counter increments, the latency bucket
// (1-based) and the latency (us).
func rollupArgs(c events.HealthChecked) []any {
	k := projections.ContributionOfCheck(c)
	return []any{projections.HourOf(c.Slot), increments(k), k.Bucket + 1, k.LatencyUS}
}

// increments are the rollup counter increments of a contribution:
// "checks up degraded down errors".
func increments(k projections.Contribution) string {
	b := func(ok bool) string {
		if ok {
			return "1"
		}
		return "0"
	}
	return strings.Join([]string{"1", b(k.Up), b(k.Degraded), b(k.Down), b(k.Error)}, " ")
}
