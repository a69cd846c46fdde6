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
var appendScript = redis.NewScript(`
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
  local i = 1
  for x in string.gmatch(cur, '%d+') do c[i] = tonumber(x); i = i + 1 end
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
if hv then
  local j = 1
  for x in string.gmatch(hv, '%d+') do h[j] = tonumber(x); j = j + 1 end
end
local b = tonumber(ARGV[9])
h[b] = h[b] + 1
redis.call('HSET', KEYS[2], hf, table.concat(h, ' '))
redis.call('PEXPIRE', KEYS[2], ARGV[12])
return res
`)

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
	body, err := json.Marshal(historyValue{
		State: c.State, CheckedAt: c.CheckedAt.UTC(), LatencyMS: c.LatencyMS,
		ErrorKind: c.ErrorKind, Error: c.Error, Prober: c.Prober,
	})
	if err != nil {
		return fmt.Errorf("redisstore: marshal history: %w", err)
	}
	now := s.opts.Now()
	hour := c.Slot - c.Slot%time.Hour.Milliseconds()
	b := func(ok bool) string {
		if ok {
			return "1"
		}
		return "0"
	}
	incr := strings.Join([]string{"1",
		b(c.State == projections.StateUp), b(c.State == projections.StateDegraded), b(c.State == projections.StateDown),
		b(c.Error != "" || c.ErrorKind != "")}, " ")
	latUS := int64(math.Round(max(c.LatencyMS, 0) * 1000))
	oldest := now.Add(-projections.RollupRetention).UnixMilli()
	oldest -= oldest % time.Hour.Milliseconds()
	err = appendScript.Run(ctx, s.rdb,
		[]string{s.k.hist(c.Target.Type, c.Target.Name), s.k.roll(c.Target.Type, c.Target.Name),
			s.k.kinds(), s.k.names(c.Target.Type), s.k.gone(c.Target.Type, c.Target.Name), s.k.late(c.Target.Type, c.Target.Name)},
		c.Target.Type, c.Target.Name, c.Slot, body, s.opts.HistoryMaxEntries,
		now.Add(-s.opts.HistoryRetention).UnixMilli(), hour, incr,
		projections.LatencyBucket(c.LatencyMS)+1, latUS, oldest,
		projections.RollupRetention.Milliseconds(), projections.LatencyBuckets,
		s.opts.HistoryRetention.Milliseconds()).Err()
	if err != nil {
		return fmt.Errorf("redisstore: append history: %w", err)
	}
	return nil
}

// History limits.
const (
	DefaultHistoryLimit = 100
	MaxHistoryLimit     = 1000
)

// History answers a history query: the checks of one target, or of every
// target of a kind merged, newest first (by slot, then by name for checks
// of the same slot). Since and Until bound the check's slot, the time the
// probe started (which is also its checked_at), inclusively. Limit is
// clamped to 1..MaxHistoryLimit (DefaultHistoryLimit when 0). Next is the
// cursor of the following page, "" on the last one; a malformed cursor is
// an error wrapping projections.ErrBadCursor.
func (s *Store) History(ctx context.Context, q projections.HistoryQuery) (projections.HistoryPage, error) {
	page := projections.HistoryPage{Items: []projections.HistoryItem{}}
	if q.Type == "" {
		return page, fmt.Errorf("%w: history needs a type", projections.ErrBadQuery)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = DefaultHistoryLimit
	}
	limit = min(limit, MaxHistoryLimit)
	var cur *cursor
	if q.Cursor != "" {
		c, err := decodeCursor(q.Cursor)
		if err != nil {
			return page, err
		}
		cur = &c
	}
	names := []string{q.Name}
	if q.Name == "" {
		var err error
		if names, err = s.rdb.SMembers(ctx, s.k.names(q.Type)).Result(); err != nil {
			return page, fmt.Errorf("redisstore: history targets: %w", err)
		}
	}
	lo := int64(0)
	if !q.Since.IsZero() {
		lo = max(q.Since.UnixMilli(), 0)
	}
	hi := int64(math.MaxInt64)
	if !q.Until.IsZero() {
		hi = q.Until.UnixMilli()
	}
	m := newMerger(s, q.Type, names, lo, hi, cur, limit)
	items, more, err := m.run(ctx, limit)
	if err != nil {
		return page, err
	}
	for _, it := range items {
		page.Items = append(page.Items, it.item)
	}
	if more && len(items) > 0 {
		last := items[len(items)-1]
		page.Next = encodeCursor(cursor{slot: last.slot, name: last.item.Name})
	}
	return page, nil
}

// entry is one history item with its slot.
type entry struct {
	slot int64
	item projections.HistoryItem
}

// before reports whether a comes before b in history order: slot
// descending, then name ascending.
func (a entry) before(b entry) bool {
	if a.slot != b.slot {
		return a.slot > b.slot
	}
	return a.item.Name < b.item.Name
}

// stream is one target's stream being read newest first.
type stream struct {
	name  string
	hi    int64 // highest slot still to read (inclusive)
	buf   []entry
	done  bool
	chunk int64
}

// merger reads several targets' streams newest first, a chunk at a time,
// and merges them.
type merger struct {
	s       *Store
	kind    string
	lo      int64
	streams []*stream
}

func newMerger(s *Store, kind string, names []string, lo, hi int64, cur *cursor, limit int) *merger {
	m := &merger{s: s, kind: kind, lo: lo}
	chunk := int64(limit + 1)
	if len(names) > 1 {
		chunk = min(chunk, max(8, 2*int64(limit+1)/int64(len(names))+1))
	}
	for _, n := range names {
		st := &stream{name: n, hi: hi, chunk: chunk}
		if cur != nil {
			if n > cur.name {
				st.hi = min(st.hi, cur.slot)
			} else {
				st.hi = min(st.hi, cur.slot-1)
			}
		}
		st.done = st.hi < lo
		m.streams = append(m.streams, st)
	}
	return m
}

// run pops up to limit entries in order and reports whether more follow.
func (m *merger) run(ctx context.Context, limit int) ([]entry, bool, error) {
	var out []entry
	for {
		if err := m.refill(ctx); err != nil {
			return nil, false, err
		}
		var best *stream
		for _, st := range m.streams {
			if len(st.buf) > 0 && (best == nil || st.buf[0].before(best.buf[0])) {
				best = st
			}
		}
		if best == nil {
			return out, false, nil
		}
		if len(out) == limit {
			return out, true, nil
		}
		out = append(out, best.buf[0])
		best.buf = best.buf[1:]
	}
}

// refill reads the next chunk of every stream whose buffer is empty, in
// one pipelined round trip.
func (m *merger) refill(ctx context.Context) error {
	var need []*stream
	for _, st := range m.streams {
		if len(st.buf) == 0 && !st.done {
			need = append(need, st)
		}
	}
	if len(need) == 0 {
		return nil
	}
	pipe := m.s.rdb.Pipeline()
	cmds := make([]*redis.XMessageSliceCmd, len(need))
	for i, st := range need {
		end := "+"
		if st.hi != math.MaxInt64 {
			end = strconv.FormatInt(st.hi, 10)
		}
		cmds[i] = pipe.XRevRangeN(ctx, m.s.k.hist(m.kind, st.name), end, strconv.FormatInt(m.lo, 10), st.chunk)
	}
	if _, err := pipe.Exec(ctx); err != nil && err != redis.Nil {
		return fmt.Errorf("redisstore: read history: %w", err)
	}
	for i, st := range need {
		msgs, err := cmds[i].Result()
		if err != nil && err != redis.Nil {
			return fmt.Errorf("redisstore: read history: %w", err)
		}
		for _, msg := range msgs {
			e, err := parseEntry(m.kind, st.name, msg)
			if err != nil {
				return err
			}
			st.buf = append(st.buf, e)
			st.hi = e.slot - 1
		}
		if int64(len(msgs)) < st.chunk || st.hi < m.lo {
			st.done = true
		}
		st.chunk = min(st.chunk*2, MaxHistoryLimit+1)
	}
	return nil
}

func parseEntry(kind, name string, msg redis.XMessage) (entry, error) {
	id, _, _ := strings.Cut(msg.ID, "-")
	slot, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return entry{}, fmt.Errorf("redisstore: history %s/%s: entry id %q", kind, name, msg.ID)
	}
	var v historyValue
	body, _ := msg.Values["c"].(string)
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		return entry{}, fmt.Errorf("redisstore: history %s/%s: entry %s: %w", kind, name, msg.ID, err)
	}
	return entry{slot: slot, item: projections.HistoryItem{
		Type: kind, Name: name, State: v.State, CheckedAt: v.CheckedAt, LatencyMS: v.LatencyMS,
		ErrorKind: v.ErrorKind, Error: v.Error, Prober: v.Prober,
	}}, nil
}
