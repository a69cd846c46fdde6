package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// statusScript applies a transition and/or a check to a target's status.
//
// KEYS: status hash of the kind, kinds set, names set of the kind,
// tombstone. ARGV: kind, name, epoch, seq, state value ("" for none),
// slot, check value ("" for none), transition time (ms).
//
// The state field moves only if (epoch, seq) is greater than the stored
// one, the check field only if slot is greater than the stored one; events
// not newer than a Forget (tombstone) are dropped. Returns 1 when the
// state moved plus 2 when the check did.
var statusScript = redis.NewScript(luaStatus + `return put_status(KEYS, ARGV)`)

// luaStatus defines put_status(KEYS, ARGV), the body of statusScript, for
// every script that writes statuses.
const luaStatus = `
local function put_status(KEYS, ARGV)
local tomb = redis.call('GET', KEYS[4])
if tomb then tomb = tonumber(tomb) end
-- put sets the field prefix .. name to value and returns 1, unless value
-- is '', at is not newer than the tombstone or not_newer(stored value)
-- holds: then it returns 0.
local function put(prefix, value, at, not_newer)
  if value == '' or (tomb and at <= tomb) then return 0 end
  local f = prefix .. ARGV[2]
  local cur = redis.call('HGET', KEYS[1], f)
  if cur and not_newer(cur) then return 0 end
  redis.call('HSET', KEYS[1], f, value)
  return 1
end
local n = put('s|', ARGV[5], tonumber(ARGV[8]), function(cur)
  local e, q = string.match(cur, '^(%d+):(%d+)|')
  if not e then return false end
  local ne, nq, ce, cq = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(e), tonumber(q)
  return ne < ce or (ne == ce and nq <= cq)
end)
n = n + 2 * put('c|', ARGV[7], tonumber(ARGV[6]), function(cur)
  local s = string.match(cur, '^(%d+)|')
  return s ~= nil and tonumber(ARGV[6]) <= tonumber(s)
end)
if n > 0 then
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('SADD', KEYS[3], ARGV[2])
end
return n
end
`

// A status "s|<name>" value is "<epoch>:<seq>|" followed by the packed
// fields state, since (Unix ns) and reason; a "c|<name>" value is
// "<slot>|" followed by the packed fields checked_at (Unix ns), latency_ms,
// error_kind, error, prober and details (JSON, "" for none). The guard
// prefix is what the script compares; the rest is cheap to decode.

// PutCheck records c as the last check of its target unless a check with
// the same or a newer slot is recorded. It implements
// projections.StatusStore.
func (s *Store) PutCheck(ctx context.Context, c events.HealthChecked) error {
	return s.putStatus(ctx, c.Target, 0, 0, "", c.Slot, checkField(c), 0)
}

// PutTransition records the state s moved its target to unless a
// transition with the same or a greater (epoch, seq) is recorded, and its
// deciding check as for PutCheck. It implements projections.StatusStore.
func (s *Store) PutTransition(ctx context.Context, sc events.StateChanged) error {
	sv := strconv.FormatInt(sc.Epoch, 10) + ":" + strconv.FormatInt(sc.Seq, 10) + "|" +
		pack(sc.To, strconv.FormatInt(sc.At.UnixNano(), 10), sc.Reason)
	var cv string
	if sc.Check.Slot > 0 {
		cv = checkField(sc.Check)
	}
	return s.putStatus(ctx, sc.Target, sc.Epoch, sc.Seq, sv, sc.Check.Slot, cv, sc.At.UnixMilli())
}

// checkField is the "c|<name>" value of c.
func checkField(c events.HealthChecked) string {
	return strconv.FormatInt(c.Slot, 10) + "|" + pack(strconv.FormatInt(c.CheckedAt.UnixNano(), 10),
		strconv.FormatFloat(c.LatencyMS, 'g', -1, 64), c.ErrorKind, c.Error, c.Prober, string(c.Details))
}

func (s *Store) putStatus(ctx context.Context, t events.TargetRef, epoch, seq int64, sv string, slot int64, cv string, atMS int64) error {
	err := statusScript.Run(ctx, s.rdb,
		[]string{s.k.status(t.Type), s.k.kinds(), s.k.names(t.Type), s.k.gone(t.Type, t.Name)},
		t.Type, t.Name, epoch, seq, sv, slot, cv, atMS).Err()
	if err != nil {
		return fmt.Errorf("redisstore: put status: %w", err)
	}
	return nil
}

// Statuses is the current status of every known target, sorted by type
// then name. A target without a transition yet is UNKNOWN.
//
// One pipelined round trip reads the set of kinds together with the status
// hashes of the kinds seen by the previous call; only a kind new since
// then costs a second round trip.
func (s *Store) Statuses(ctx context.Context) ([]projections.TargetStatus, error) {
	s.mu.Lock()
	guess := s.kindsSeen
	s.mu.Unlock()
	pipe := s.rdb.Pipeline()
	kindsCmd := pipe.SMembers(ctx, s.k.kinds())
	cmds := make(map[string]*redis.MapStringStringCmd, len(guess))
	for _, k := range guess {
		cmds[k] = pipe.HGetAll(ctx, s.k.status(k))
	}
	if _, err := pipe.Exec(ctx); err != nil {
		return nil, fmt.Errorf("redisstore: read statuses: %w", err)
	}
	kinds := kindsCmd.Val()
	var missing []string
	for _, k := range kinds {
		if cmds[k] == nil {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		pipe := s.rdb.Pipeline()
		for _, k := range missing {
			cmds[k] = pipe.HGetAll(ctx, s.k.status(k))
		}
		if _, err := pipe.Exec(ctx); err != nil {
			return nil, fmt.Errorf("redisstore: read statuses: %w", err)
		}
	}
	slices.Sort(kinds)
	s.mu.Lock()
	s.kindsSeen = kinds
	s.mu.Unlock()
	var out []projections.TargetStatus
	for _, k := range kinds {
		ts, err := parseStatuses(k, cmds[k].Val())
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	return out, nil
}

// StatusesOf is the current status of every known target of kind, sorted
// by name.
func (s *Store) StatusesOf(ctx context.Context, kind string) ([]projections.TargetStatus, error) {
	m, err := s.rdb.HGetAll(ctx, s.k.status(kind)).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: read statuses of %s: %w", kind, err)
	}
	return parseStatuses(kind, m)
}

// parseStatuses decodes a kind's status hash into statuses sorted by name.
func parseStatuses(kind string, fields map[string]string) ([]projections.TargetStatus, error) {
	byName := make(map[string]int, len(fields)/2+1)
	out := make([]projections.TargetStatus, 0, len(fields)/2+1)
	var parts [6]string
	for f, v := range fields {
		if len(f) < 2 || f[1] != '|' {
			continue
		}
		name := f[2:]
		i, ok := byName[name]
		if !ok {
			i = len(out)
			byName[name] = i
			out = append(out, projections.TargetStatus{Type: kind, Name: name, State: projections.StateUnknown, Projected: true})
		}
		ts := &out[i]
		guard, body, ok := splitGuard(v)
		if !ok {
			return nil, fmt.Errorf("redisstore: status %s/%s: malformed value", kind, name)
		}
		switch f[0] {
		case 's':
			if !unpack(body, parts[:3]) {
				return nil, fmt.Errorf("redisstore: status %s/%s: malformed state", kind, name)
			}
			e, q, _ := strings.Cut(guard, ":")
			ts.Epoch, _ = strconv.ParseInt(e, 10, 64)
			ts.Seq, _ = strconv.ParseInt(q, 10, 64)
			ts.State, ts.Reason = parts[0], parts[2]
			since := nsTime(parts[1])
			ts.Since = &since
		case 'c':
			if !unpack(body, parts[:6]) {
				return nil, fmt.Errorf("redisstore: status %s/%s: malformed check", kind, name)
			}
			ts.Slot, _ = strconv.ParseInt(guard, 10, 64)
			at := nsTime(parts[0])
			ts.CheckedAt = &at
			ts.LatencyMS, _ = strconv.ParseFloat(parts[1], 64)
			ts.ErrorKind, ts.Error, ts.Prober = parts[2], parts[3], parts[4]
			if parts[5] != "" {
				if !json.Valid([]byte(parts[5])) {
					return nil, fmt.Errorf("redisstore: status %s/%s: details are not JSON", kind, name)
				}
				ts.Details = json.RawMessage(parts[5])
			}
		}
	}
	idx := make([]int, len(out))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int { return strings.Compare(out[a].Name, out[b].Name) })
	sorted := make([]projections.TargetStatus, len(out))
	for j, i := range idx {
		sorted[j] = out[i]
		sorted[j].Details = events.DetailsOrEmpty(sorted[j].Details)
	}
	return sorted, nil
}

// nsTime parses Unix nanoseconds as a UTC time.
func nsTime(s string) time.Time {
	n, _ := strconv.ParseInt(s, 10, 64)
	return time.Unix(0, n).UTC()
}
