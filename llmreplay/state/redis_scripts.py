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

_STRATEGIES: dict[str, str] = {
    "none": """
local function acquire() return {1, limit, limit, 0, 0} end
""",
    "always": """
local function acquire() return {0, limit, 0, window, window} end
""",
    "random": """
local function acquire()
  if draw == '1' then return {0, limit, 0, 1, 1} end
  return {1, limit, limit, 0, 0}
end
""",
    "after-n": """
-- Denials last until a reset; an idle day forgets the count so memory stays bounded.
local function acquire()
  local key = KEYS[1]
  local seen = tonumber(redis.call('HGET', key, 'seen')) or 0
  local allowed = seen + 1 <= after_n
  if allowed then seen = seen + 1 end
  redis.call('HSET', key, 'seen', seen)
  redis.call('PEXPIRE', key, 86400000)
  if allowed then return {1, after_n, after_n - seen, window, 0} end
  return {0, after_n, 0, window, window}
end
""",
    "fixed-window": """
-- The grid stays aligned to the first request; after an idle hour (or two windows) it starts afresh.
local function acquire()
  local key = KEYS[1]
  local v = redis.call('HMGET', key, 'start', 'used')
  local start, used = tonumber(v[1]), tonumber(v[2]) or 0
  if start == nil then
    start = now
  elseif now >= start + window then
    start = start + math.floor((now - start) / window) * window
    used = 0
  end
  local reset_after = start + window - now
  local allowed, retry = 0, reset_after
  if used + 1 <= limit then
    used = used + 1
    allowed, retry = 1, 0
  end
  redis.call('HSET', key, 'start', fmt(start), 'used', used)
  expire(key, math.max(2 * window, 3600))
  return {allowed, limit, limit - used, reset_after, retry}
end
""",
    "sliding-window": """
-- An exact log of admitted requests (at most `limit` entries), oldest first.
local function acquire()
  local key = KEYS[1]
  while true do
    local first = redis.call('LINDEX', key, 0)
    if first and tonumber(first) + window <= now then redis.call('LPOP', key) else break end
  end
  local used = redis.call('LLEN', key)
  if used + 1 <= limit then
    redis.call('RPUSH', key, fmt(now))
    expire(key, window)
    return {1, limit, limit - used - 1, window, 0}
  end
  local need = used + 1 - limit
  local retry = tonumber(redis.call('LINDEX', key, need - 1)) + window - now
  local last = tonumber(redis.call('LINDEX', key, -1))
  return {0, limit, limit - used, last + window - now, retry}
end
""",
    "token-bucket": """
local function acquire() return bucket_acquire(KEYS[1], limit, limit / window, 1) end
""",
    "leaky-bucket": """
local function acquire()
  local key = KEYS[1]
  local capacity, rate = limit, limit / window
  local v = redis.call('HMGET', key, 'level', 'at')
  local level, at = tonumber(v[1]) or 0, tonumber(v[2])
  if at and now > at then level = math.max(0, level - (now - at) * rate) end
  if at == nil then at = now else at = math.max(at, now) end
  local allowed, retry = 0, 0
  if level + 1 <= capacity + 1e-9 then
    level = level + 1
    allowed = 1
  else
    retry = (level + 1 - capacity) / rate
  end
  redis.call('HSET', key, 'level', fmt(level), 'at', fmt(at))
  expire(key, level / rate)
  return {allowed, capacity, whole(capacity - level), level / rate, retry}
end
""",
}

ADMIT: dict[str, str] = {name: _PRELUDE + body + _EPILOGUE for name, body in _STRATEGIES.items()}
"""One admit script per strategy name (the names of :data:`~llmreplay.shaping.ratelimit.strategies.DESCRIPTIONS`)."""

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
