package notify

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/projections"
)

// RedisLog is the notification log of shared mode. Every change is one
// Lua script, so it is atomic across replicas. Times are the caller's
// clock in milliseconds (replica clocks are assumed NTP-synced: a skew
// shortens or lengthens a lease by as much).
//
// Key layout, under a prefix P:
//
//	P:notify:n:<id>            hash: n (notification JSON), state, attempts, next, owner, outcome, err, updated
//	P:notify:due               zset of pending ids by next attempt (or lease end) in ms
//	P:notify:delivered         zset of delivered ids by time
//	P:notify:failed            zset of failed ids by time
//	P:notify:lease:<key>       a Leaser lease (SET NX PX)
//	P:notify:gone              hash receiver name -> GoneMark JSON
//	P:notify:tr:<type>/<name>  hash "<epoch>:<seq>" -> transition JSON, kept TransitionTTL after the last write
type RedisLog struct {
	rdb    redis.UniversalClient
	prefix string
	now    func() time.Time
}

// TransitionTTL is how long RedisLog keeps a target's transitions after
// the last one (an incident longer than this without a transition resolves
// without a resolved notification).
const TransitionTTL = 30 * 24 * time.Hour

// NewRedisLog returns the log under key prefix; now is the clock (nil:
// time.Now).
func NewRedisLog(rdb redis.UniversalClient, prefix string, now func() time.Time) (*RedisLog, error) {
	if rdb == nil || prefix == "" {
		return nil, errors.New("notify: redis log: nil client or empty prefix")
	}
	if now == nil {
		now = time.Now
	}
	return &RedisLog{rdb: rdb, prefix: prefix + ":notify:", now: now}, nil
}

func (l *RedisLog) key(parts ...string) string {
	k := l.prefix
	for i, p := range parts {
		if i > 0 {
			k += ":"
		}
		k += p
	}
	return k
}

// claimScript: KEYS entry, due; ARGV id, notification, owner, now, lease.
// Returns false when taken, else {n, attempts, outcome, err}.
var claimScript = redis.NewScript(`
local h, due, now = KEYS[1], KEYS[2], tonumber(ARGV[4])
local st = redis.call('HGET', h, 'state')
if not st then
  redis.call('HSET', h, 'n', ARGV[2], 'state', 'pending', 'attempts', 0, 'next', now, 'owner', '', 'outcome', '', 'err', '', 'updated', now)
  st = 'pending'
end
if st ~= 'pending' or tonumber(redis.call('HGET', h, 'next')) > now then return false end
local untl = now + tonumber(ARGV[5])
redis.call('HSET', h, 'owner', ARGV[3], 'next', untl, 'updated', now)
redis.call('ZADD', due, untl, ARGV[1])
return redis.call('HMGET', h, 'n', 'attempts', 'outcome', 'err')
`)

// Claim implements Log.
func (l *RedisLog) Claim(ctx context.Context, n Notification, owner string, lease time.Duration) (Claim, bool, error) {
	body, err := json.Marshal(n)
	if err != nil {
		return Claim{}, false, fmt.Errorf("notify: log: %w", err)
	}
	now := l.now()
	res, err := claimScript.Run(ctx, l.rdb, []string{l.key("n", n.ID), l.key("due")},
		n.ID, body, owner, now.UnixMilli(), lease.Milliseconds()).Slice()
	if errors.Is(err, redis.Nil) {
		return Claim{}, false, nil
	}
	if err != nil {
		return Claim{}, false, fmt.Errorf("notify: log: claim: %w", err)
	}
	var e Entry
	if err := json.Unmarshal([]byte(str(res[0])), &e.Notification); err != nil {
		return Claim{}, false, fmt.Errorf("notify: log: claim: %w", err)
	}
	e.State, e.Attempts = EntryPending, atoi(str(res[1]))
	e.LastOutcome, e.LastError = OutcomeKind(str(res[2])), str(res[3])
	until := time.UnixMilli(now.UnixMilli() + lease.Milliseconds())
	e.NextAt, e.UpdatedAt = now, now
	return Claim{Entry: e, Until: until}, true, nil
}

// recordScript: KEYS entry, due, delivered, failed, suppressed; ARGV id, owner,
// outcome, attempts, next, err, now, state.
var recordScript = redis.NewScript(`
local h = KEYS[1]
local st = redis.call('HGET', h, 'state')
if not st then return 'notfound' end
if st ~= 'pending' or redis.call('HGET', h, 'owner') ~= ARGV[2] then return 'notowner' end
redis.call('HSET', h, 'state', ARGV[8], 'owner', '', 'attempts', ARGV[4], 'outcome', ARGV[3], 'err', ARGV[6], 'updated', ARGV[7])
if ARGV[8] == 'pending' then
  redis.call('HSET', h, 'next', ARGV[5])
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[1])
else
  redis.call('ZREM', KEYS[2], ARGV[1])
  local set = KEYS[4]
  if ARGV[8] == 'delivered' then set = KEYS[3] elseif ARGV[8] == 'suppressed' then set = KEYS[5] end
  redis.call('ZADD', set, ARGV[7], ARGV[1])
end
return 'ok'
`)

// Record implements Log.
func (l *RedisLog) Record(ctx context.Context, id, owner string, o Outcome) error {
	state, next, err := outcomeState(o)
	if err != nil {
		return err
	}
	res, err := recordScript.Run(ctx, l.rdb, []string{l.key("n", id), l.key("due"), l.key("delivered"), l.key("failed"), l.key("suppressed")},
		id, owner, string(o.Kind), o.Attempts, next.UnixMilli(), o.Error, l.now().UnixMilli(), string(state)).Text()
	if err != nil {
		return fmt.Errorf("notify: log: record: %w", err)
	}
	return scriptErr(res)
}

// retryScript: KEYS entry, due, failed; ARGV id, now.
var retryScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'state')
if not st then return 'notfound' end
if st ~= 'failed' then return 'notfailed' end
redis.call('HSET', KEYS[1], 'state', 'pending', 'attempts', 0, 'next', ARGV[2], 'owner', '', 'outcome', 'requeued', 'updated', ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[1])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 'ok'
`)

// Retry implements Log.
func (l *RedisLog) Retry(ctx context.Context, id string) error {
	res, err := retryScript.Run(ctx, l.rdb, []string{l.key("n", id), l.key("due"), l.key("failed")}, id, l.now().UnixMilli()).Text()
	if err != nil {
		return fmt.Errorf("notify: log: retry: %w", err)
	}
	return scriptErr(res)
}

func scriptErr(res string) error {
	switch res {
	case "ok":
		return nil
	case "notfound":
		return ErrNotFound
	case "notowner":
		return ErrNotOwner
	case "notfailed":
		return ErrNotFailed
	}
	return fmt.Errorf("notify: log: unexpected script answer %q", res)
}

// List implements Log.
func (l *RedisLog) List(ctx context.Context, state EntryState, limit int) ([]Entry, error) {
	set := map[EntryState]string{EntryPending: "due", EntryDelivered: "delivered", EntryFailed: "failed", EntrySuppressed: "suppressed"}[state]
	if set == "" {
		return nil, fmt.Errorf("notify: log: unknown state %q", state)
	}
	ids, err := l.rdb.ZRange(ctx, l.key(set), 0, int64(max(limit, 1))-1).Result()
	if err != nil {
		return nil, fmt.Errorf("notify: log: list: %w", err)
	}
	return l.entries(ctx, ids)
}

// Due implements Log.
func (l *RedisLog) Due(ctx context.Context, now time.Time, limit int) ([]Entry, error) {
	ids, err := l.rdb.ZRangeByScore(ctx, l.key("due"), &redis.ZRangeBy{
		Min: "-inf", Max: strconv.FormatInt(now.UnixMilli(), 10), Count: int64(max(limit, 1)),
	}).Result()
	if err != nil {
		return nil, fmt.Errorf("notify: log: due: %w", err)
	}
	return l.entries(ctx, ids)
}

// Pending is the number of pending entries.
func (l *RedisLog) Pending(ctx context.Context) (int, error) {
	n, err := l.rdb.ZCard(ctx, l.key("due")).Result()
	if err != nil {
		return 0, fmt.Errorf("notify: log: %w", err)
	}
	return int(n), nil
}

// entries reads the entries of ids (skipping any deleted meanwhile).
func (l *RedisLog) entries(ctx context.Context, ids []string) ([]Entry, error) {
	pipe := l.rdb.Pipeline()
	cmds := make([]*redis.MapStringStringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = pipe.HGetAll(ctx, l.key("n", id))
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("notify: log: %w", err)
	}
	out := make([]Entry, 0, len(ids))
	for _, c := range cmds {
		h := c.Val()
		if len(h) == 0 {
			continue
		}
		var e Entry
		if err := json.Unmarshal([]byte(h["n"]), &e.Notification); err != nil {
			return nil, fmt.Errorf("notify: log: %w", err)
		}
		e.State, e.Attempts, e.Owner = EntryState(h["state"]), atoi(h["attempts"]), h["owner"]
		e.LastOutcome, e.LastError = OutcomeKind(h["outcome"]), h["err"]
		e.NextAt = time.UnixMilli(int64(atoi(h["next"])))
		e.UpdatedAt = time.UnixMilli(int64(atoi(h["updated"])))
		out = append(out, e)
	}
	return out, nil
}

// Lease implements Leaser with SET NX PX (the lease expires on Redis's
// clock).
func (l *RedisLog) Lease(ctx context.Context, key, owner string, ttl time.Duration) (bool, error) {
	ok, err := l.rdb.SetNX(ctx, l.key("lease", key), owner, max(ttl, time.Millisecond)).Result()
	if err != nil {
		return false, fmt.Errorf("notify: log: lease: %w", err)
	}
	return ok, nil
}

// transScript: KEYS hash; ARGV field, transition, ttl ms. Returns every
// transition.
var transScript = redis.NewScript(`
redis.call('HSETNX', KEYS[1], ARGV[1], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3])
return redis.call('HVALS', KEYS[1])
`)

// Transitions implements TransitionLog.
func (l *RedisLog) Transitions(ctx context.Context, s events.StateChanged) ([]projections.Transition, error) {
	t := projections.TransitionOf(s.Epoch, s.Seq, s.From, s.To, s.At, s.Reason)
	b, err := json.Marshal(t)
	if err != nil {
		return nil, fmt.Errorf("notify: log: %w", err)
	}
	field := strconv.FormatInt(s.Epoch, 10) + ":" + strconv.FormatInt(s.Seq, 10)
	vals, err := transScript.Run(ctx, l.rdb, []string{l.key("tr", s.Target.Subject())}, field, b, TransitionTTL.Milliseconds()).StringSlice()
	if err != nil {
		return nil, fmt.Errorf("notify: log: transitions: %w", err)
	}
	out := make([]projections.Transition, 0, len(vals))
	for _, v := range vals {
		var x projections.Transition
		if err := json.Unmarshal([]byte(v), &x); err != nil {
			return nil, fmt.Errorf("notify: log: transitions: %w", err)
		}
		out = append(out, x)
	}
	return out, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

var (
	_ Log           = (*RedisLog)(nil)
	_ Leaser        = (*RedisLog)(nil)
	_ TransitionLog = (*RedisLog)(nil)
)
