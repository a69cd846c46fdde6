package coord

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/events"
	"github.com/dbhealth/database-service/probes"
	"github.com/dbhealth/database-service/projections"
)

// applyScript applies one check to a target's transition state atomically,
// following projections.Decide step for step (a differential test runs
// both over generated sequences).
//
// KEYS: state hash, outbox stream. ARGV: 1 slot, 2 observed state,
// 3 failure_threshold, 4 success_threshold, 5 reason, 6 at_ms, 7 check
// json, 8 kind, 9 name, 10 outbox cap (0: none).
//
// A missing state hash starts a new epoch at the store's time (the store
// lost data), so transition ids never collide. A transition bumps seq and
// is appended to the outbox in the same script, unless the outbox holds
// the cap or more entries: then the check is refused, as
// projections.DecideCapped does, and nothing is written.
//
// Returns {applied, transitioned, pending, seq, epoch, stable state bad,
// outbox length when refused (else 0)}.
var applyScript = redis.NewScript(luaStates + luaApply + `return apply_check(KEYS, ARGV)`)

// luaStates declares the states of the events vocabulary as Lua locals,
// so that the scripts spell none of them.
var luaStates = fmt.Sprintf("local UNKNOWN, UP, DEGRADED, DOWN = %q, %q, %q, %q\n",
	events.StateUnknown, events.StateUp, events.StateDegraded, events.StateDown)

// luaApply defines apply_check(KEYS, ARGV), the body of applyScript.
const luaApply = `
local function apply_check(KEYS, ARGV)
local st = redis.call('HMGET', KEYS[1], 'stable', 'cand', 'count', 'seq', 'epoch', 'last_slot', 'creason')
local slot, obs = tonumber(ARGV[1]), ARGV[2]
local stable, cand, creason = st[1], st[2] or '', st[7] or ''
local count, seq = tonumber(st[3] or '0'), tonumber(st[4] or '0')
local epoch, last = st[5], tonumber(st[6] or '0')
if not stable or not epoch then
  local t = redis.call('TIME')
  epoch = tostring(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))
  stable, cand, creason, count, seq, last = UNKNOWN, '', '', 0, 0, 0
end
local cand0 = cand
local function pend() if cand ~= '' then return 1 end return 0 end
local function bad(s) return s == DOWN or s == DEGRADED end
local function isbad() if bad(stable) then return 1 end return 0 end
if slot <= last then return {0, 0, pend(), seq, tonumber(epoch), isbad(), 0} end
local need = tonumber(ARGV[3])
if stable == UNKNOWN then
  cand, count, need = obs, 1, 1
elseif obs == stable then
  cand, count = '', 0
elseif stable == UP then
  if bad(cand) then
    if cand ~= DOWN and obs ~= DOWN then cand = DEGRADED else cand = DOWN end
    count = count + 1
  else
    cand, count = obs, 1
  end
else
  if obs == cand then count = count + 1 else cand, count = obs, 1 end
  if obs == UP then need = tonumber(ARGV[4]) end
end
if cand == '' then creason = '' elseif obs == cand then creason = ARGV[5] end
local moved = 0
if cand ~= '' and count >= need then
  local cap = tonumber(ARGV[10] or '0')
  if cap > 0 then
    local n = redis.call('XLEN', KEYS[2])
    if n >= cap then
      local p0 = 0
      if cand0 ~= '' then p0 = 1 end
      return {0, 0, p0, seq, tonumber(epoch), isbad(), n}
    end
  end
  seq = seq + 1
  local initial = '0'
  if stable == UNKNOWN then initial = '1' end
  redis.call('XADD', KEYS[2], '*', 'type', ARGV[8], 'name', ARGV[9], 'from', stable, 'to', cand,
    'seq', tostring(seq), 'epoch', epoch, 'at', ARGV[6], 'initial', initial, 'reason', creason, 'check', ARGV[7])
  redis.call('HSET', KEYS[1], 'since', ARGV[6], 'reason', creason)
  stable, cand, creason, count, moved = cand, '', '', 0, 1
end
redis.call('HSET', KEYS[1], 'stable', stable, 'cand', cand, 'count', count, 'seq', seq, 'epoch', epoch,
  'last_slot', slot, 'creason', creason)
return {1, moved, pend(), seq, tonumber(epoch), isbad(), 0}
end
`

// applyBatchScript applies a batch of checks in order, each as
// applyScript would, in one script call. ARGV: the key prefix, the
// outbox cap, then per check 10 fields: target id, then applyScript's
// ARGV 1-9. Returns the 7 values of applyScript per check, flattened.
var applyBatchScript = redis.NewScript(luaStates + luaApply + `
local out = {}
for i = 3, #ARGV, 10 do
  local id = ARGV[i]
  local r = apply_check({ARGV[1] .. ':state:' .. id, ARGV[1] .. ':outbox'},
    {ARGV[i+1], ARGV[i+2], ARGV[i+3], ARGV[i+4], ARGV[i+5], ARGV[i+6], ARGV[i+7], ARGV[i+8], ARGV[i+9], ARGV[2]})
  for j = 1, 7 do out[#out + 1] = r[j] end
end
return out
`)

// CheckedPublisher publishes HealthChecked events without blocking.
type CheckedPublisher interface {
	PublishAsync(e events.Envelope) bool
}

// Applier applies checks to the shared transition state and publishes one
// HealthChecked per check it did not refuse. It implements probes.Sink.
type Applier struct {
	rdb     redis.UniversalClient
	keys    Keys
	replica string
	source  string
	pub     CheckedPublisher
	limit   *projections.OutboxLimit
	log     *slog.Logger
}

// Keys names the store keys under a prefix.
type Keys struct{ Prefix string }

// State is the transition state hash of target id.
func (k Keys) State(id string) string { return k.Prefix + ":state:" + id }

// Outbox is the stream of unpublished transitions.
func (k Keys) Outbox() string { return k.Prefix + ":outbox" }

// NewApplier returns an Applier. pub may be nil (no HealthChecked events),
// and limit too (no outbox cap).
func NewApplier(rdb redis.UniversalClient, prefix, replica, source string, pub CheckedPublisher, limit *projections.OutboxLimit, log *slog.Logger) *Applier {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Applier{rdb: rdb, keys: Keys{prefix}, replica: replica, source: source, pub: pub, limit: limit, log: log}
}

// Apply applies the checks in one pipelined round trip and reports, per
// check, whether a transition is pending confirmation, or whether the
// check was refused because it would add a transition to a full outbox
// (then nothing changed, and it is not published).
func (a *Applier) Apply(ctx context.Context, checks []probes.Check) ([]probes.Outcome, error) {
	hcs := make([]events.HealthChecked, len(checks))
	bodies := make([][]byte, len(checks))
	for i, c := range checks {
		hcs[i] = c.HealthChecked(a.replica)
		b, err := json.Marshal(hcs[i])
		if err != nil {
			return nil, fmt.Errorf("coord: marshal check: %w", err)
		}
		bodies[i] = b
	}
	res, err := a.run(ctx, checks, bodies)
	if errors.Is(err, errNoScript) {
		if lerr := applyBatchScript.Load(ctx, a.rdb).Err(); lerr != nil {
			return nil, fmt.Errorf("coord: load apply script: %w", lerr)
		}
		res, err = a.run(ctx, checks, bodies)
	}
	if err != nil {
		return nil, err
	}
	out := make([]probes.Outcome, len(checks))
	refused, length, moved := 0, int64(0), false
	for i, r := range res {
		out[i] = probes.Outcome{Pending: r.pending, Bad: r.bad, Refused: r.refused > 0}
		if r.refused > 0 {
			refused, length = refused+1, r.refused
		}
		if r.moved {
			moved = true
			a.log.Info("state changed", "target", checks[i].Result.Target.ID(), "to", checks[i].Result.State, "seq", r.seq)
		}
	}
	if moved {
		a.limit.Admitted()
	}
	a.limit.Refused(refused, length)
	if a.pub != nil {
		for i, hc := range hcs {
			if !out[i].Refused {
				a.pub.PublishAsync(events.WrapHealthChecked(a.source, hc, bodies[i]))
			}
		}
	}
	return out, nil
}

type applied struct {
	ok, moved, pending, bad bool
	seq, epoch              int64
	refused                 int64 // the outbox length when refused, else 0
}

func (a *Applier) run(ctx context.Context, checks []probes.Check, bodies [][]byte) ([]applied, error) {
	args := make([]any, 0, 2+10*len(checks))
	args = append(args, a.keys.Prefix, a.limit.Max())
	for i, c := range checks {
		t := c.Result.Target
		th := projections.Thresholds{Failure: t.FailureThreshold, Success: t.SuccessThreshold}.WithDefaults()
		args = append(args, t.ID(), c.Slot, string(c.Result.State), th.Failure, th.Success, c.Reason(),
			c.Result.CheckedAt.UnixMilli(), bodies[i], string(t.Kind), t.Name)
	}
	v, err := applyBatchScript.EvalSha(ctx, a.rdb, nil, args...).Int64Slice()
	if isNoScript(err) {
		return nil, errNoScript
	}
	if err != nil {
		return nil, fmt.Errorf("coord: apply: %w", err)
	}
	if len(v) != 7*len(checks) {
		return nil, fmt.Errorf("coord: apply: %d values for %d checks", len(v), len(checks))
	}
	out := make([]applied, len(checks))
	for i := range out {
		r := v[7*i : 7*i+7]
		out[i] = applied{ok: r[0] == 1, moved: r[1] == 1, pending: r[2] == 1, seq: r[3], epoch: r[4], bad: r[5] == 1, refused: r[6]}
	}
	return out, nil
}

// errNoScript says the store forgot the script (it restarted).
var errNoScript = errors.New("coord: script not loaded")

func isNoScript(err error) bool { return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") }

// parseInt reads a stream field as an int64 (0 when absent or malformed).
func parseInt(v any) int64 {
	s, _ := v.(string)
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}

// Decided reads the coordinator's record of the targets (the state machine
// of each, as the apply script keeps it) in one round trip: what the read
// models will show once the bus delivers the transitions. Targets the
// store holds no state for are left out.
func (a *Applier) Decided(ctx context.Context, targets []probes.Target) ([]projections.Decided, error) {
	if len(targets) == 0 {
		return nil, nil
	}
	pipe := a.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(targets))
	for i, t := range targets {
		cmds[i] = pipe.HMGet(ctx, a.keys.State(t.ID()), "stable", "epoch", "seq", "since", "reason", "last_slot")
	}
	if _, err := pipe.Exec(ctx); err != nil && !errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("coord: read decisions: %w", err)
	}
	out := make([]projections.Decided, 0, len(targets))
	for i, t := range targets {
		v := cmds[i].Val()
		if len(v) != 6 || v[0] == nil {
			continue
		}
		str := func(x any) string { s, _ := x.(string); return s }
		out = append(out, projections.Decided{
			Type: string(t.Kind), Name: t.Name, State: str(v[0]),
			Epoch: parseInt(v[1]), Seq: parseInt(v[2]), Since: parseInt(v[3]), Reason: str(v[4]), LastCheck: parseInt(v[5]),
		})
	}
	return out, nil
}

// Forget deletes target id's transition state: a target added again
// starts a new epoch, whose first decision is its initial one.
func (a *Applier) Forget(ctx context.Context, id string) error {
	if err := a.rdb.Del(ctx, a.keys.State(id)).Err(); err != nil {
		return fmt.Errorf("coord: forget %s: %w", id, err)
	}
	return nil
}
