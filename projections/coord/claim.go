package coord

import (
	"context"
	"fmt"
	"strconv"

	"github.com/redis/go-redis/v9"

	"github.com/dbhealth/database-service/probes"
)

// claimScript claims a batch of buckets in one round trip, on the store's
// clock so replica clocks do not matter. ARGV: replica, then per due probe
// id and step_ms. Returns the server time in ms followed by 1/0 per probe.
// A bucket is floor(now/step); its key lives for two steps.
var claimScript = redis.NewScript(`
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {now}
local prefix = KEYS[1]
local replica = ARGV[1]
for i = 2, #ARGV, 2 do
  local id, step = ARGV[i], tonumber(ARGV[i+1])
  local bucket = math.floor(now / step)
  local ok = redis.call('SET', prefix .. ':claim:' .. id .. ':' .. step .. ':' .. bucket, replica, 'NX', 'PX', step * 2)
  out[#out + 1] = ok and 1 or 0
end
return out
`)

// Claimer claims probe slots in the shared store. It implements
// probes.Claimer.
type Claimer struct {
	rdb     redis.UniversalClient
	prefix  string
	replica string
}

// NewClaimer returns a Claimer for replica under key prefix.
func NewClaimer(rdb redis.UniversalClient, prefix, replica string) *Claimer {
	return &Claimer{rdb: rdb, prefix: prefix, replica: replica}
}

// Claim claims every due probe in one script call. The slot of each claim
// is the store's time in milliseconds, shared by the whole batch.
func (c *Claimer) Claim(ctx context.Context, due []probes.Due) ([]probes.Claim, error) {
	args := make([]any, 0, 1+2*len(due))
	args = append(args, c.replica)
	for _, d := range due {
		step := d.Step.Milliseconds()
		if step <= 0 {
			step = 1000
		}
		args = append(args, d.Target.ID(), strconv.FormatInt(step, 10))
	}
	res, err := claimScript.Run(ctx, c.rdb, []string{c.prefix}, args...).Int64Slice()
	if err != nil {
		return nil, fmt.Errorf("coord: claim: %w", err)
	}
	if len(res) != len(due)+1 {
		return nil, fmt.Errorf("coord: claim: %d answers for %d probes", len(res)-1, len(due))
	}
	now := res[0]
	out := make([]probes.Claim, len(due))
	for i := range due {
		out[i] = probes.Claim{Won: res[i+1] == 1, Slot: now}
	}
	return out, nil
}
