package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// appendScript appends a check to its target's history stream and, in the
// same step, to its hourly rollups.
//
// KEYS: stream, rollup hash, kinds set, names set, tombstone, late-slots
// zset. ARGV: 1 kind, 2 name, 3 slot, 4 item json, 5 maxlen, 6 minid (ms,
// "0" for none), 7 hour (ms), 8 counter increments "checks up degraded
// down errors", 9 latency bucket (1-based), 10 latency (us), 11 oldest
// hour kept (ms), 12 rollup ttl (ms), 13 number of latency buckets,
// 14 stream ttl (ms).
//
// The stream entry id is "<slot>-0": Redis itself refuses an id not above
// the stream's top ("equal or smaller"), so a redelivered check is a
// duplicate, and so is, for the history, a check that arrives after a
// newer one of its target (a slow probe finishing after a faster, later
// one on another replica). The rollups still count such a late check,
// once: it is not in the stream, and its slot is recorded in the late-slots
// zset (kept as long as the rollups). Returns 1 if appended to the
// history, 2 if only counted in the rollups (late), 0 if a duplicate.
var appendScript = redis.NewScript(luaAppend + `return append_check(KEYS, ARGV)`)

// luaAppend defines append_check(KEYS, ARGV), the body of appendScript, for
// every script that appends checks, and read_ints(t, s), which reads the
// space-separated integers of s into t from t[1] on.
const luaAppend = `
local function read_ints(t, s)
  local i = 1
  for x in string.gmatch(s, '%d+') do t[i] = tonumber(x); i = i + 1 end
end
local function append_check(KEYS, ARGV)
local tomb = redis.call('GET', KEYS[5])
if tomb and tonumber(ARGV[3]) <= tonumber(tomb) then return 0 end
local res = 1
local r = redis.pcall('XADD', KEYS[1], 'MAXLEN', '~', ARGV[5], ARGV[3] .. '-0', 'c', ARGV[4])
if type(r) == 'table' and r.err then
  if not string.find(r.err, 'equal or smaller', 1, true) then return redis.error_reply(r.err) end
  local id = ARGV[3] .. '-0'
  if #redis.call('XRANGE', KEYS[1], id, id) > 0 then return 0 end
  if tonumber(ARGV[3]) < tonumber(ARGV[11]) then return 0 end
  if redis.call('ZADD', KEYS[6], 'NX', ARGV[3], ARGV[3]) == 0 then return 0 end
  redis.call('ZREMRANGEBYSCORE', KEYS[6], '-inf', '(' .. ARGV[11])
  redis.call('PEXPIRE', KEYS[6], ARGV[12])
  res = 2
else
  if ARGV[6] ~= '0' then redis.call('XTRIM', KEYS[1], 'MINID', '~', ARGV[6]) end
  redis.call('PEXPIRE', KEYS[1], ARGV[14])
  redis.call('SADD', KEYS[3], ARGV[1])
  redis.call('SADD', KEYS[4], ARGV[2])
  local ls = redis.call('HGET', KEYS[2], 'ls')
  if ls and tonumber(ARGV[3]) <= tonumber(ls) then return 1 end
  redis.call('HSET', KEYS[2], 'ls', ARGV[3])
end
local f = ARGV[7]
local c = {0, 0, 0, 0, 0, 0}
local cur = redis.call('HGET', KEYS[2], f)
if cur then
  read_ints(c, cur)
else
  local oldest = tonumber(ARGV[11])
  for _, k in ipairs(redis.call('HKEYS', KEYS[2])) do
    local h = string.match(k, '^(%d+)')
    if h and tonumber(h) < oldest then redis.call('HDEL', KEYS[2], k) end
  end
end
local i = 1
for x in string.gmatch(ARGV[8], '%d+') do c[i] = c[i] + tonumber(x); i = i + 1 end
local lat = tonumber(ARGV[10])
if lat > c[6] then c[6] = lat end
redis.call('HSET', KEYS[2], f, table.concat(c, ' '))
local hf = f .. ':h'
local h = {}
for j = 1, tonumber(ARGV[13]) do h[j] = 0 end
local hv = redis.call('HGET', KEYS[2], hf)
if hv then read_ints(h, hv) end
local b = tonumber(ARGV[9])
h[b] = h[b] + 1
redis.call('HSET', KEYS[2], hf, table.concat(h, ' '))
redis.call('PEXPIRE', KEYS[2], ARGV[12])
return res
end
`

// historyValue is the JSON body of a history entry (field "c").
type historyValue struct {
	State     string    `json:"state"`
	CheckedAt time.Time `json:"checked_at"`
	LatencyMS float64   `json:"latency_ms"`
	ErrorKind string    `json:"error_kind,omitempty"`
	Error     string    `json:"error,omitempty"`
	Prober    string    `json:"prober,omitempty"`
}

// AppendCheck appends c to its target's history and hourly rollups, once
// per slot (a duplicate is not an error). A check older than the newest in
// its target's history is counted in the rollups but left out of the
// history (a stream only grows at its top). It implements
// projections.HistoryStore.
func (s *Store) AppendCheck(ctx context.Context, c events.HealthChecked) error {
	body, err := historyItem(c)
	if err != nil {
		return err
	}
	now := s.opts.Now()
	args := []any{c.Target.Type, c.Target.Name, c.Slot, body, s.opts.HistoryMaxEntries,
		now.Add(-s.opts.HistoryRetention).UnixMilli()}
	args = append(args, rollupArgs(c)...)
	args = append(args, projections.OldestRollupHour(now),
		projections.RollupRetention.Milliseconds(), projections.LatencyBuckets,
		s.opts.HistoryRetention.Milliseconds())
	err = appendScript.Run(ctx, s.rdb,
		[]string{s.k.hist(c.Target.Type, c.Target.Name), s.k.roll(c.Target.Type, c.Target.Name),
			s.k.kinds(), s.k.names(c.Target.Type), s.k.gone(c.Target.Type, c.Target.Name), s.k.late(c.Target.Type, c.Target.Name)},
		args...).Err()
	if err != nil {
		return fmt.Errorf("redisstore: append history: %w", err)
	}
	return nil
}

// History limits (projections.DefaultHistoryLimit, MaxHistoryLimit).
const (
	DefaultHistoryLimit = projections.DefaultHistoryLimit
	MaxHistoryLimit     = projections.MaxHistoryLimit
)

// History answers a history query (see projections.PlanHistory): the
// checks of one target, or of every target of a kind merged, newest first
// (by slot, then by name for checks of the same slot). Since and Until
// bound the check's slot, the time the probe started (which is also its
// checked_at), inclusively.
func (s *Store) History(ctx context.Context, q projections.HistoryQuery) (projections.HistoryPage, error) {
	var names []string
	if q.Name == "" && q.Type != "" {
		var err error
		if names, err = s.rdb.SMembers(ctx, s.k.names(q.Type)).Result(); err != nil {
			return projections.HistoryPage{Items: []projections.HistoryItem{}}, fmt.Errorf("redisstore: history targets: %w", err)
		}
	}
	plan, err := projections.PlanHistory(q, names)
	if err != nil {
		return projections.HistoryPage{Items: []projections.HistoryItem{}}, err
	}
	return plan.Merge(func(need []*projections.HistoryStream) error { return s.refill(ctx, plan.Kind, need) })
}

// refill reads the next chunk of every stream in need, in one pipelined
// round trip.
func (s *Store) refill(ctx context.Context, kind string, need []*projections.HistoryStream) error {
	pipe := s.rdb.Pipeline()
	cmds := make([]*redis.XMessageSliceCmd, len(need))
	for i, st := range need {
		end := "+"
		if st.Hi != math.MaxInt64 {
			end = strconv.FormatInt(st.Hi, 10)
		}
		cmds[i] = pipe.XRevRangeN(ctx, s.k.hist(kind, st.Name), end, strconv.FormatInt(st.Lo, 10), st.Chunk)
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return fmt.Errorf("redisstore: read history: %w", err)
	}
	for i, st := range need {
		msgs, err := cmds[i].Result()
		if err != nil && err != redis.Nil {
			return fmt.Errorf("redisstore: read history: %w", err)
		}
		es := make([]projections.HistoryEntry, 0, len(msgs))
		for _, msg := range msgs {
			e, err := parseEntry(kind, st.Name, msg)
			if err != nil {
				return err
			}
			es = append(es, e)
		}
		st.Took(es)
	}
	return nil
}

func parseEntry(kind, name string, msg redis.XMessage) (projections.HistoryEntry, error) {
	id, _, _ := strings.Cut(msg.ID, "-")
	slot, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return projections.HistoryEntry{}, fmt.Errorf("redisstore: history %s/%s: entry id %q", kind, name, msg.ID)
	}
	var v historyValue
	body, _ := msg.Values["c"].(string)
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		return projections.HistoryEntry{}, fmt.Errorf("redisstore: history %s/%s: entry %s: %w", kind, name, msg.ID, err)
	}
	return projections.HistoryEntry{Slot: slot, Item: projections.HistoryItem{
		Type: kind, Name: name, State: v.State, CheckedAt: v.CheckedAt, LatencyMS: v.LatencyMS,
		ErrorKind: v.ErrorKind, Error: v.Error, Prober: v.Prober,
	}}, nil
}
