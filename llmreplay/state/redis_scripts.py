"""The rate-limit strategies as Lua scripts, so every replica takes from one quota atomically.

Each script mirrors its in-memory twin in :mod:`llmreplay.shaping.ratelimit` step for
step (same comparisons, same epsilons), so a sequence of requests gets the same
admit/deny answers, remaining counts and waits. The clock is Redis's own ``TIME``,
one clock for every replica; tests pass ``now`` instead to replay exact sequences.
Floats go back as strings: Redis would truncate a Lua number reply to an integer.

Every admit script takes ``KEYS = {request state, token state}`` and
``ARGV = {now or "", limit, window_s, after_n, prompt_tokens, tokens_per_minute or 0, denied_by_draw}``
and answers ``{allowed, limit, remaining, reset_after, retry_after}`` for requests,
followed by the same five for the token bucket when there is a token limit.
"""

from __future__ import annotations

from llmreplay.shaping.ratelimit.strategies import STRATEGIES

_PRELUDE = """
local now = tonumber(ARGV[1])
if not now then
  local t = redis.call('TIME')
  now = tonumber(t[1]) + tonumber(t[2]) / 1000000
end
local limit = tonumber(ARGV[2])
local window = tonumber(ARGV[3])
local after_n = tonumber(ARGV[4])
local cost = tonumber(ARGV[5])
local tpm = tonumber(ARGV[6])
local draw = ARGV[7]
-- Slack on every expiry: state is kept a little past the moment it becomes the same as fresh state.
local SLACK_MS = 1000

local function fmt(x) return string.format('%.17g', x) end
local function whole(x) return math.max(0, math.floor(x + 1e-9)) end
local function expire(key, seconds) redis.call('PEXPIRE', key, math.ceil(seconds * 1000) + SLACK_MS) end

local function bucket_load(key, capacity, rate)
  local v = redis.call('HMGET', key, 'tokens', 'at')
  local stored = tonumber(v[1]) or capacity
  local at = tonumber(v[2])
  local tokens = stored
  if at and now > at then tokens = math.min(capacity, tokens + (now - at) * rate) end
  return tokens, at, stored
end

local function bucket_acquire(key, capacity, rate, c)
  local tokens, at = bucket_load(key, capacity, rate)
  if at == nil then at = now else at = math.max(at, now) end
  local allowed, retry = 0, 0
  if tokens + 1e-9 >= c then
    tokens = math.max(0, tokens - c)
    allowed = 1
  else
    retry = (c - tokens) / rate
  end
  local full = (capacity - tokens) / rate
  redis.call('HSET', key, 'tokens', fmt(tokens), 'at', fmt(at))
  expire(key, full)
  return {allowed, capacity, whole(tokens), full, retry}
end

-- Like the in-memory peek: refilled tokens, but the time to full as last stored.
local function bucket_peek(key, capacity, rate)
  local tokens, _, stored = bucket_load(key, capacity, rate)
  return {1, capacity, whole(tokens), (capacity - stored) / rate, 0}
end
"""

_EPILOGUE = """
local req = acquire()
local out = {req[1], req[2], req[3], fmt(req[4]), fmt(req[5])}
if tpm > 0 then
  local tok
  if req[1] == 1 then
    tok = bucket_acquire(KEYS[2], tpm, tpm / 60, cost)
  else
    tok = bucket_peek(KEYS[2], tpm, tpm / 60)
  end
  for _, v in ipairs({tok[1], tok[2], tok[3], fmt(tok[4]), fmt(tok[5])}) do table.insert(out, v) end
end
return out
"""

ADMIT: dict[str, str] = {s.name: _PRELUDE + s.lua + _EPILOGUE for s in STRATEGIES.values()}
"""One admit script per strategy: the prelude, the strategy's own ``acquire()`` (declared beside its in-memory
limiter, :data:`~llmreplay.shaping.ratelimit.strategies.STRATEGIES`) and the token-limit epilogue."""

CHARGE = (
    _PRELUDE
    + """
-- Completion tokens, taken after the fact: the bucket may go into debt.
local key = KEYS[2]
local capacity, rate = tpm, tpm / 60
local v = redis.call('HMGET', key, 'tokens', 'at')
local tokens, at = tonumber(v[1]) or capacity, tonumber(v[2])
if at and now > at then
  tokens = math.min(capacity, tokens + (now - at) * rate)
  at = now
end
tokens = tokens - cost
redis.call('HSET', key, 'tokens', fmt(tokens))
if at then redis.call('HSET', key, 'at', fmt(at)) end
expire(key, (capacity - tokens) / rate)
return 1
"""
)
"""``charge``: same KEYS and ARGV as the admit scripts; ``prompt_tokens`` carries the completion tokens."""

SCENARIO_NAMED = """
local steps = redis.call('HGET', KEYS[1], ARGV[1])
if not steps then return false end
local i = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[2])
return {steps, i}
"""
"""The steps of a named scenario and the key's next position, in one round trip (false if unknown)."""
