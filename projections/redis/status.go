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
var statusScript = redis.NewScript(`
local tomb = redis.call('GET', KEYS[4])
if tomb then tomb = tonumber(tomb) end
local n = 0
if ARGV[5] ~= '' and not (tomb and tonumber(ARGV[8]) <= tomb) then
  local f = 's|' .. ARGV[2]
  local cur = redis.call('HGET', KEYS[1], f)
  local ok = true
  if cur then
    local e, q = string.match(cur, '^(%d+):(%d+)|')
    if e then
      local ne, nq, ce, cq = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(e), tonumber(q)
      if ne < ce or (ne == ce and nq <= cq) then ok = false end
    end
  end
  if ok then
    redis.call('HSET', KEYS[1], f, ARGV[5])
    n = n + 1
  end
end
if ARGV[7] ~= '' and not (tomb and tonumber(ARGV[6]) <= tomb) then
  local f = 'c|' .. ARGV[2]
  local cur = redis.call('HGET', KEYS[1], f)
  local ok = true
  if cur then
    local s = string.match(cur, '^(%d+)|')
    if s and tonumber(ARGV[6]) <= tonumber(s) then ok = false end
  end
  if ok then
    redis.call('HSET', KEYS[1], f, ARGV[7])
    n = n + 2
  end
end
if n > 0 then
  redis.call('SADD', KEYS[2], ARGV[1])
  redis.call('SADD', KEYS[3], ARGV[2])
end
return n
`)

// statusAllScript reads the status hashes of every kind in one round trip.
// KEYS: kinds set. ARGV: status hash prefix. Returns kind, fields, kind,
// fields...
var statusAllScript = redis.NewScript(`
local out = {}
for _, k in ipairs(redis.call('SMEMBERS', KEYS[1])) do
  out[#out + 1] = k
  out[#out + 1] = redis.call('HGETALL', ARGV[1] .. k)
end
return out
`)

// stateValue is the JSON body of a status "s|" field.
type stateValue struct {
	State  string    `json:"state"`
	Since  time.Time `json:"since"`
	Reason string    `json:"reason,omitempty"`
}

// checkValue is the JSON body of a status "c|" field.
type checkValue struct {
	CheckedAt time.Time      `json:"checked_at"`
	LatencyMS float64        `json:"latency_ms"`
	Details   map[string]any `json:"details,omitempty"`
	ErrorKind string         `json:"error_kind,omitempty"`
	Error     string         `json:"error,omitempty"`
	Prober    string         `json:"prober,omitempty"`
}

// PutCheck records c as the last check of its target unless a check with
// the same or a newer slot is recorded. It implements
// projections.StatusStore.
func (s *Store) PutCheck(ctx context.Context, c events.HealthChecked) error {
	cv, err := checkField(c)
	if err != nil {
		return err
	}
	return s.putStatus(ctx, c.Target, 0, 0, "", c.Slot, cv, 0)
}

// PutTransition records the state s moved its target to unless a
// transition with the same or a greater (epoch, seq) is recorded, and its
// deciding check as for PutCheck. It implements projections.StatusStore.
func (s *Store) PutTransition(ctx context.Context, sc events.StateChanged) error {
	b, err := json.Marshal(stateValue{State: sc.To, Since: sc.At.UTC(), Reason: sc.Reason})
	if err != nil {
		return fmt.Errorf("redisstore: marshal state: %w", err)
	}
	sv := strconv.FormatInt(sc.Epoch, 10) + ":" + strconv.FormatInt(sc.Seq, 10) + "|" + string(b)
	var cv string
	if sc.Check.Slot > 0 {
		if cv, err = checkField(sc.Check); err != nil {
			return err
		}
	}
	return s.putStatus(ctx, sc.Target, sc.Epoch, sc.Seq, sv, sc.Check.Slot, cv, sc.At.UnixMilli())
}

func checkField(c events.HealthChecked) (string, error) {
	b, err := json.Marshal(checkValue{
		CheckedAt: c.CheckedAt.UTC(), LatencyMS: c.LatencyMS, Details: c.Details,
		ErrorKind: c.ErrorKind, Error: c.Error, Prober: c.Prober,
	})
	if err != nil {
		return "", fmt.Errorf("redisstore: marshal check: %w", err)
	}
	return strconv.FormatInt(c.Slot, 10) + "|" + string(b), nil
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
func (s *Store) Statuses(ctx context.Context) ([]projections.TargetStatus, error) {
	res, err := statusAllScript.Run(ctx, s.rdb, []string{s.k.kinds()}, s.k.status("")).Slice()
	if err != nil {
		return nil, fmt.Errorf("redisstore: read statuses: %w", err)
	}
	var out []projections.TargetStatus
	for i := 0; i+1 < len(res); i += 2 {
		kind, _ := res[i].(string)
		fields, _ := res[i+1].([]any)
		flat := make([]string, 0, len(fields))
		for _, f := range fields {
			v, _ := f.(string)
			flat = append(flat, v)
		}
		ts, err := parseStatuses(kind, flat)
		if err != nil {
			return nil, err
		}
		out = append(out, ts...)
	}
	sortStatuses(out)
	return out, nil
}

// StatusesOf is the current status of every known target of kind, sorted
// by name.
func (s *Store) StatusesOf(ctx context.Context, kind string) ([]projections.TargetStatus, error) {
	m, err := s.rdb.HGetAll(ctx, s.k.status(kind)).Result()
	if err != nil {
		return nil, fmt.Errorf("redisstore: read statuses of %s: %w", kind, err)
	}
	flat := make([]string, 0, 2*len(m))
	for f, v := range m {
		flat = append(flat, f, v)
	}
	out, err := parseStatuses(kind, flat)
	if err != nil {
		return nil, err
	}
	sortStatuses(out)
	return out, nil
}

func sortStatuses(ts []projections.TargetStatus) {
	slices.SortFunc(ts, func(a, b projections.TargetStatus) int {
		if c := strings.Compare(a.Type, b.Type); c != 0 {
			return c
		}
		return strings.Compare(a.Name, b.Name)
	})
}

// parseStatuses decodes the field/value pairs of a kind's status hash.
func parseStatuses(kind string, flat []string) ([]projections.TargetStatus, error) {
	byName := make(map[string]int, len(flat)/4+1)
	out := make([]projections.TargetStatus, 0, len(flat)/4+1)
	get := func(name string) *projections.TargetStatus {
		i, ok := byName[name]
		if !ok {
			i = len(out)
			byName[name] = i
			out = append(out, projections.TargetStatus{Type: kind, Name: name, State: projections.StateUnknown})
		}
		return &out[i]
	}
	for i := 0; i+1 < len(flat); i += 2 {
		f, v := flat[i], flat[i+1]
		if len(f) < 2 || f[1] != '|' {
			continue
		}
		guard, body, ok := splitGuard(v)
		if !ok {
			return nil, fmt.Errorf("redisstore: status %s/%s: malformed value", kind, f[2:])
		}
		ts := get(f[2:])
		switch f[0] {
		case 's':
			var st stateValue
			if err := json.Unmarshal([]byte(body), &st); err != nil {
				return nil, fmt.Errorf("redisstore: status %s/%s: %w", kind, ts.Name, err)
			}
			e, q, _ := strings.Cut(guard, ":")
			ts.Epoch, _ = strconv.ParseInt(e, 10, 64)
			ts.Seq, _ = strconv.ParseInt(q, 10, 64)
			ts.State, ts.Reason = st.State, st.Reason
			since := st.Since
			ts.Since = &since
		case 'c':
			var cv checkValue
			if err := json.Unmarshal([]byte(body), &cv); err != nil {
				return nil, fmt.Errorf("redisstore: status %s/%s: %w", kind, ts.Name, err)
			}
			ts.Slot, _ = strconv.ParseInt(guard, 10, 64)
			at := cv.CheckedAt
			ts.CheckedAt = &at
			ts.LatencyMS, ts.Details, ts.ErrorKind, ts.Error, ts.Prober = cv.LatencyMS, cv.Details, cv.ErrorKind, cv.Error, cv.Prober
		}
	}
	for i := range out {
		if out[i].Details == nil {
			out[i].Details = map[string]any{}
		}
	}
	return out, nil
}
