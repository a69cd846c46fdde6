package redisstore

import "github.com/redis/go-redis/v9"

// Alert keys, under A = P:al:
//
//	A:log:<t>:<epoch>  hash: "<seq>" -> "<from bad 0|1>|<severity>|<at ms>|<reason>",
//	                   "o<seq>" -> seq of the opener of the incident <seq> belongs to
//	A:ep:<t>           zset of the target's epochs (score = member = epoch)
//	A:t:<t>            hash: fe, fs: floor (epoch, seq); transitions at or below it were pruned
//	A:open:<t>         set: ids of the target's alerts not resolved by a transition
//	A:a:<id>           hash: one alert (id, type, name, severity, state, reason,
//	                   started_at, resolved_at, epoch, seq, front, rseq, end)
//	A:all              zset: every alert by started_at
//	A:firing           zset: firing alerts by started_at
//	A:resolved         zset: resolved alerts by resolved_at
//
// where <t> is "<type>/<name>" and <id> "<t>:<epoch>:<seq of the opener>".

// alertScript records one transition and recomputes the incident it
// belongs to, so the alerts are the same whatever order transitions arrive
// in, and a redelivered transition changes nothing.
//
// KEYS: A. ARGV: 1 type, 2 name, 3 epoch, 4 seq, 5 from-state is bad
// ("1"/"0"), 6 severity of the to-state ("" when good), 7 at (ms),
// 8 reason, 9 retention cutoff (ms): resolved alerts resolved before it
// are pruned.
//
// Every transition is kept in the target's log (HSETNX: the log is the
// record of processed event ids). An incident starts at an opener (from a
// good state into a bad one) and runs over the following contiguous seqs
// until a transition to a good state resolves it; its alert is recomputed
// by walking forward from the last transition already walked (front),
// stamping each walked transition with its opener, so a transition that
// arrives after its predecessor finds its incident in O(1) and one that
// arrives before waits for the gap to be filled. An incident of an older
// epoch that no transition resolved is resolved at the start of the next
// epoch (the coordinator lost its state then). Returns 1 if recorded, 0 if
// a duplicate or pruned.
var alertScript = redis.NewScript(`
local A = KEYS[1]
local typ, name = ARGV[1], ARGV[2]
local t = typ .. '/' .. name
local E, n = ARGV[3], tonumber(ARGV[4])
local allk, firk, resk = A .. ':all', A .. ':firing', A .. ':resolved'
local INF = '9007199254740991'

local function logk(tt, e) return A .. ':log:' .. tt .. ':' .. e end

local function get(e, k)
  local v = redis.call('HGET', logk(t, e), tostring(k))
  if not v then return nil end
  local fb, sev, at, reason = string.match(v, '^([01])|([^|]*)|(%d+)|(.*)$')
  if not fb then return nil end
  return {sev = sev, at = at, reason = reason}
end

local function recompute(e, o)
  local id = t .. ':' .. e .. ':' .. tostring(o)
  local ak = A .. ':a:' .. id
  local a = redis.call('HMGET', ak, 'front', 'severity', 'reason', 'rseq', 'started_at')
  local front, sev, reason, started = o - 1, '', '', a[5]
  if a[1] then
    if a[4] and a[4] ~= '' then return end
    front, sev, reason = tonumber(a[1]), a[2], a[3]
  end
  local rseq, rat = nil, nil
  local j = front + 1
  while true do
    local x = get(e, j)
    if not x then break end
    if j == o then started = x.at end
    redis.call('HSET', logk(t, e), 'o' .. tostring(j), tostring(o))
    front = j
    if x.sev == '' then
      rseq, rat = j, x.at
      break
    end
    sev, reason = x.sev, x.reason
    j = j + 1
  end
  if not started or sev == '' then return end
  local state, resolved, ending = 'firing', '', ''
  if rseq then
    state, resolved, ending = 'resolved', rat, 'seq'
  else
    local nx = redis.call('ZRANGEBYSCORE', A .. ':ep:' .. t, '(' .. e, '+inf', 'LIMIT', 0, 1)
    if nx[1] then state, resolved, ending = 'resolved', nx[1], 'epoch' end
  end
  local rs = ''
  if rseq then rs = tostring(rseq) end
  redis.call('HSET', ak, 'id', id, 'type', typ, 'name', name, 'severity', sev, 'state', state,
    'reason', reason, 'started_at', started, 'resolved_at', resolved, 'epoch', e,
    'seq', tostring(o), 'front', tostring(front), 'rseq', rs, 'end', ending)
  redis.call('ZADD', allk, started, id)
  local openk = A .. ':open:' .. t
  if state == 'firing' then
    redis.call('ZADD', firk, started, id)
    redis.call('ZREM', resk, id)
    redis.call('SADD', openk, id)
  else
    redis.call('ZREM', firk, id)
    redis.call('ZADD', resk, resolved, id)
    if ending == 'epoch' then
      redis.call('SADD', openk, id)
    else
      redis.call('SREM', openk, id)
    end
  end
end

-- prune deletes alerts resolved before the cutoff, with the log of the
-- transitions up to their end, and raises the target's floor over them.
local function prune()
  local ids = redis.call('ZRANGEBYSCORE', resk, '-inf', '(' .. ARGV[9], 'LIMIT', 0, 100)
  for _, id in ipairs(ids) do
    local ak = A .. ':a:' .. id
    local a = redis.call('HMGET', ak, 'type', 'name', 'epoch', 'rseq', 'end', 'front')
    if a[1] and a[3] then
      local tt = a[1] .. '/' .. a[2]
      local ttk = A .. ':t:' .. tt
      local e = a[3]
      local fs = a[6] or '0'
      if a[5] == 'seq' then fs = a[4] elseif a[5] == 'epoch' then fs = INF end
      local cur = redis.call('HMGET', ttk, 'fe', 'fs')
      local ce, cs = tonumber(cur[1] or '-1'), tonumber(cur[2] or '0')
      local ne, ns = tonumber(e), tonumber(fs)
      if ne > ce or (ne == ce and ns > cs) then
        local tep = A .. ':ep:' .. tt
        for _, oe in ipairs(redis.call('ZRANGEBYSCORE', tep, '-inf', '(' .. e)) do
          redis.call('DEL', logk(tt, oe))
          redis.call('ZREM', tep, oe)
        end
        if fs == INF then
          redis.call('DEL', logk(tt, e))
        else
          for _, f in ipairs(redis.call('HKEYS', logk(tt, e))) do
            local k = tonumber(string.match(f, '^o?(%d+)$'))
            if k and k <= ns then redis.call('HDEL', logk(tt, e), f) end
          end
        end
        redis.call('HSET', ttk, 'fe', e, 'fs', fs)
      end
      redis.call('SREM', A .. ':open:' .. tt, id)
    end
    redis.call('DEL', ak)
    redis.call('ZREM', allk, id)
    redis.call('ZREM', firk, id)
    redis.call('ZREM', resk, id)
  end
end

local applied = 0
local fl = redis.call('HMGET', A .. ':t:' .. t, 'fe', 'fs')
local stale = false
if fl[1] then
  local fe, fs, e = tonumber(fl[1]), tonumber(fl[2]), tonumber(E)
  if e < fe or (e == fe and n <= fs) then stale = true end
end
if not stale then
  local rec = ARGV[5] .. '|' .. ARGV[6] .. '|' .. ARGV[7] .. '|' .. ARGV[8]
  if redis.call('HSETNX', logk(t, E), ARGV[4], rec) == 1 then
    applied = 1
    local newEpoch = redis.call('ZADD', A .. ':ep:' .. t, E, E)
    local fromBad, bad = ARGV[5] == '1', ARGV[6] ~= ''
    if bad and not fromBad then
      recompute(E, n)
    elseif fromBad then
      local p = redis.call('HGET', logk(t, E), 'o' .. tostring(n - 1))
      if p then recompute(E, tonumber(p)) end
    end
    if newEpoch == 1 then
      for _, id in ipairs(redis.call('SMEMBERS', A .. ':open:' .. t)) do
        local a = redis.call('HMGET', A .. ':a:' .. id, 'epoch', 'seq')
        if a[1] and tonumber(a[1]) < tonumber(E) then recompute(a[1], tonumber(a[2])) end
      end
    end
  end
end
prune()
return applied
`)
