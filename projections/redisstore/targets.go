package redisstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/events"
)

// forgetScript removes a target from the read models: its status, history,
// rollups and index entries; its firing alerts are resolved now with
// reason "removed" (projections.ResolveRemoved). Its transition log goes
// too, and the floor of its alerts is raised to the newest transition
// recorded, so a redelivered transition cannot reopen a removed incident.
// A tombstone makes the status and history projections drop events about
// it that are not newer than now for a day, so events still in flight do
// not bring it back.
//
// KEYS: status hash of the kind, names set of the kind, kinds set, history
// stream, rollup hash, tombstone, alert open set, alert prefix, late-slots
// zset. ARGV: kind, name, now (ms), tombstone ttl (ms).
var forgetScript = redis.NewScript(`
redis.call('HDEL', KEYS[1], 's|' .. ARGV[2], 'c|' .. ARGV[2])
redis.call('SREM', KEYS[2], ARGV[2])
if redis.call('SCARD', KEYS[2]) == 0 and redis.call('HLEN', KEYS[1]) == 0 then
  redis.call('SREM', KEYS[3], ARGV[1])
end
redis.call('DEL', KEYS[4], KEYS[5], KEYS[9])
redis.call('SET', KEYS[6], ARGV[3], 'PX', ARGV[4])
local A = KEYS[8]
local t = ARGV[1] .. '/' .. ARGV[2]
for _, id in ipairs(redis.call('SMEMBERS', KEYS[7])) do
  local ak = A .. ':a:' .. id
  if redis.call('HGET', ak, 'state') == 'firing' then
    redis.call('HSET', ak, 'state', 'resolved', 'resolved_at', ARGV[3], 'end', 'removed', 'reason', 'removed', 'rseq', 'removed')
    redis.call('ZREM', A .. ':firing', id)
    redis.call('ZADD', A .. ':resolved', ARGV[3], id)
  end
end
redis.call('DEL', KEYS[7])
local epk = A .. ':ep:' .. t
local top = redis.call('ZRANGE', epk, -1, -1)
if top[1] then
  local fs = 0
  for _, f in ipairs(redis.call('HKEYS', A .. ':log:' .. t .. ':' .. top[1])) do
    local k = tonumber(f)
    if k and k > fs then fs = k end
  end
  local ttk = A .. ':t:' .. t
  local cur = redis.call('HMGET', ttk, 'fe', 'fs')
  local ce, cs = tonumber(cur[1] or '-1'), tonumber(cur[2] or '0')
  local ne = tonumber(top[1])
  if ne > ce or (ne == ce and fs > cs) then redis.call('HSET', ttk, 'fe', top[1], 'fs', fs) end
  for _, e in ipairs(redis.call('ZRANGE', epk, 0, -1)) do redis.call('DEL', A .. ':log:' .. t .. ':' .. e) end
  redis.call('DEL', epk)
end
return 1
`)

// Forget removes a target that no longer exists from the read models: its
// status, history, rollups and index entries go, and its firing alert (if
// any) is resolved now. Events about it not newer than now are dropped for
// a day afterwards, so messages still queued do not bring it back.
func (s *Store) Forget(ctx context.Context, kind, name string) error {
	a := s.k.alerts()
	err := forgetScript.Run(ctx, s.rdb,
		[]string{s.k.status(kind), s.k.names(kind), s.k.kinds(), s.k.hist(kind, name), s.k.roll(kind, name),
			s.k.gone(kind, name), a + ":open:" + kind + "/" + name, a, s.k.late(kind, name)},
		kind, name, s.opts.Now().UnixMilli(), tombstoneTTL.Milliseconds()).Err()
	if err != nil {
		return fmt.Errorf("redisstore: forget %s/%s: %w", kind, name, err)
	}
	return nil
}

// Targets lists every known target (one with a status, a history or
// rollups), sorted by type then name.
func (s *Store) Targets(ctx context.Context) ([]events.TargetRef, error) {
	kinds, err := s.rdb.SMembers(ctx, s.k.kinds()).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: read targets: %w", err)
	}
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.StringSliceCmd, len(kinds))
	for i, k := range kinds {
		cmds[i] = pipe.SMembers(ctx, s.k.names(k))
	}
	if len(kinds) > 0 {
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("redisstore: read targets: %w", err)
		}
	}
	var out []events.TargetRef
	for i, k := range kinds {
		for _, n := range cmds[i].Val() {
			out = append(out, events.TargetRef{Type: k, Name: n})
		}
	}
	slices.SortFunc(out, func(a, b events.TargetRef) int {
		if c := strings.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
	return out, nil
}
