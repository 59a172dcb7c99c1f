"""The Lua scripts of `RedisLimiter`: `_aimd.Controller`'s rules, run atomically inside Redis.

KEYS[1] is the account's lease set (a sorted set: token -> expiry in ms), KEYS[2] its state (a hash with the
controller's fields). A lease whose expiry passed is dropped before every grant, so the slots of a killed
worker come back within the lease TTL.
"""

from __future__ import annotations

__all__ = ["ACQUIRE", "REFUSED", "RELEASE"]

ACQUIRE = """
local now = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('HSET', KEYS[2], 'limit', ARGV[4], 'ceiling', ARGV[5], 'decrease', ARGV[6], 'slow_start', 1,
    'generation', 0, 'credit', 0, 'failed_at', 0, 'probe_windows', 1, 'increases', 0, 'decreases', 0,
    'congested', 0, 'granted', 0, 'overshoot', -1, 'blocked', 0, 'max_probe_windows', ARGV[7])
end
local limit = tonumber(redis.call('HGET', KEYS[2], 'limit'))
local n = redis.call('ZCARD', KEYS[1])
if n >= limit then
  redis.call('HINCRBY', KEYS[2], 'blocked', 1)
  return {0, 0, 0}
end
redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[3])
redis.call('HINCRBY', KEYS[2], 'granted', 1)
local generation = tonumber(redis.call('HGET', KEYS[2], 'generation'))
local saturated = 0
if n + 1 >= limit then saturated = 1 end
return {1, generation, saturated, n + 1, tonumber(redis.call('HGET', KEYS[2], 'blocked'))}
"""

_CONGESTED = """
local function num(field) return tonumber(redis.call('HGET', KEYS[2], field)) end
local function restart()
  redis.call('HSET', KEYS[2], 'slow_start', 1, 'overshoot', -1, 'failed_at', 0, 'probe_windows', 1,
    'credit', 0)
end
local function congested(generation, place)
  redis.call('HINCRBY', KEYS[2], 'congested', 1)
  local limit, new = num('limit'), 1
  if generation == num('overshoot') and place > 0 and place <= limit then
    redis.call('HSET', KEYS[2], 'limit', math.max(1, place - 1))
    return
  end
  if generation ~= num('generation') then return end
  if num('slow_start') == 1 then
    redis.call('HSET', KEYS[2], 'slow_start', 0, 'overshoot', generation)
    if place > 0 then
      new = math.max(1, math.min(limit - 1, place - 1))
    else
      new = math.max(1, math.floor(limit / 2))
    end
  else
    local decrease = tonumber(redis.call('HGET', KEYS[2], 'decrease'))
    new = math.max(1, math.min(limit - 1, math.floor(limit * decrease + 0.5)))
  end
  local failed_at = num('failed_at')
  if failed_at > 0 and limit >= failed_at then
    redis.call('HSET', KEYS[2], 'probe_windows', math.min(num('probe_windows') * 2, num('max_probe_windows')))
  end
  redis.call('HSET', KEYS[2], 'failed_at', limit, 'limit', new, 'credit', 0)
  redis.call('HINCRBY', KEYS[2], 'generation', 1)
  redis.call('HINCRBY', KEYS[2], 'decreases', 1)
end
"""

RELEASE = (
    _CONGESTED
    + """
redis.call('ZREM', KEYS[1], ARGV[1])
if redis.call('EXISTS', KEYS[2]) == 0 then
  return 0
end
-- ARGV: token, outcome, generation, saturated, place, refused (the slot was kept after a refusal), and
-- blocked: the grants refused for a full limit when it was granted (_aimd.held_back)
local outcome, generation = ARGV[2], tonumber(ARGV[3])
local saturated = ARGV[4] == '1' or (generation > 0 and num('blocked') > tonumber(ARGV[7]))
local limit = num('limit')
if outcome == 'ok' then
  local holding = redis.call('ZCARD', KEYS[1]) + 1  -- the account's requests in flight, this one included
  if ARGV[6] == '1' and generation == num('generation') and num('slow_start') == 0
      and holding >= tonumber(ARGV[5]) then
    restart()
  end
  if not saturated or limit >= num('ceiling') then return 0 end
  if num('slow_start') == 1 then
    redis.call('HSET', KEYS[2], 'limit', limit + 1)
    redis.call('HINCRBY', KEYS[2], 'increases', 1)
    return 0
  end
  local credit, failed_at, windows = num('credit') + 1, num('failed_at'), num('probe_windows')
  local need = limit
  if failed_at > 0 and limit + 1 >= failed_at then need = limit * windows end
  if credit < need then
    redis.call('HSET', KEYS[2], 'credit', credit)
    return 0
  end
  if failed_at > 0 and limit >= failed_at then restart() end
  redis.call('HSET', KEYS[2], 'credit', 0, 'limit', limit + 1)
  redis.call('HINCRBY', KEYS[2], 'increases', 1)
  return 0
end
if outcome ~= 'congested' then return 0 end
congested(generation, tonumber(ARGV[5]))
return 1
"""
)

REFUSED = (
    _CONGESTED
    + """
-- ARGV: token, generation, now (ms), lease TTL (ms), place. Returns {1, generation, place} when kept.
if redis.call('EXISTS', KEYS[2]) == 0 then
  redis.call('ZREM', KEYS[1], ARGV[1])
  return {0, 0}
end
local now = tonumber(ARGV[3])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
congested(tonumber(ARGV[2]), tonumber(ARGV[5]))
local held = redis.call('ZCARD', KEYS[1])
if redis.call('ZSCORE', KEYS[1], ARGV[1]) and held <= num('limit') then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[4]), ARGV[1])
  return {1, num('generation'), held}
end
redis.call('ZREM', KEYS[1], ARGV[1])
return {0, 0}
"""
)
