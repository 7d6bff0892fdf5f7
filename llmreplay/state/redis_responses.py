"""Kept Responses shared through Redis, so that every worker and replica on one ``--state`` knows them.

Each record is a hash (``…:responses:<id>``: the response object, its input items, the response it continued,
whether and until when it runs in the background) that lives :data:`TTL_S`. An index (a sorted set by the time
each was kept) and their sizes bound the whole as this process's memory is bound: at most
:data:`~llmreplay.state.response_shelf.MAX_COUNT` records and
:data:`~llmreplay.state.response_shelf.MAX_BYTES` bytes, the oldest let go first; each put is one script that
also lets go of what expired. A chain of ``previous_response_id`` is followed in one script too, so continuing
a conversation is one round trip whatever its length.

A response is in Redis before its answer goes out, so that the client's next request finds it on any worker
(one put sent and forgotten was still on its way when a test's next call reached the other worker). Its
answer waits for that one round trip; the writer and every other answer go on meanwhile, and answers kept at
the same moment share a round trip: one task sends what is put, a batch at a time on one connection (a burst
taking a connection each ran the pool out, which read as an outage). When Redis cannot be reached, answers go
out unkept (the outage is logged once by the link) and reads find nothing, as a server that keeps nothing would.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import time
from collections import deque
from collections.abc import Callable
from typing import Any

from llmreplay.providers.openai_responses_store import Stored
from llmreplay.state.redis_link import RedisLink, Unavailable
from llmreplay.state.response_shelf import MAX_BYTES, MAX_CHAIN, MAX_COUNT

log = logging.getLogger("llmreplay.state")

TTL_S = 24 * 3600
"""How long a kept response lives in Redis (the real service keeps them 30 days; a test run needs far less)."""
BATCH = 100
"""Records sent in one round trip at most."""

_FIELDS = ("response", "inputs", "previous", "background", "done_at", "events")

# KEYS: record, index, sizes, total. ARGV: id, now, ttl, max_count, max_bytes, record prefix, size, then the fields.
_PUT = """
local id, now, ttl = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local max_count, max_bytes, prefix, size = tonumber(ARGV[4]), tonumber(ARGV[5]), ARGV[6], tonumber(ARGV[7])
local function forget(gone)
  local s = tonumber(redis.call('HGET', KEYS[3], gone) or '0')
  redis.call('HDEL', KEYS[3], gone)
  redis.call('ZREM', KEYS[2], gone)
  redis.call('DEL', prefix .. gone)
  redis.call('DECRBY', KEYS[4], s)
end
forget(id)
for _, gone in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now - ttl)) do forget(gone) end
if size > max_bytes then return 0 end
redis.call('HSET', KEYS[1], 'response', ARGV[8], 'inputs', ARGV[9], 'previous', ARGV[10], 'background', ARGV[11],
  'done_at', ARGV[12], 'events', ARGV[13])
redis.call('EXPIRE', KEYS[1], ttl)
redis.call('ZADD', KEYS[2], now, id)
redis.call('HSET', KEYS[3], id, size)
local total = redis.call('INCRBY', KEYS[4], size)
while redis.call('ZCARD', KEYS[2]) > max_count or total > max_bytes do
  local oldest = redis.call('ZRANGE', KEYS[2], 0, 0)[1]
  if not oldest then break end
  forget(oldest)
  total = tonumber(redis.call('GET', KEYS[4]) or '0')
end
return 1
"""

# ARGV: id, record prefix, longest. Answers the records newest first, each its id and then its fields.
_CHAIN = """
local FIELDS = {FIELD_NAMES}
local id, prefix, longest = ARGV[1], ARGV[2], tonumber(ARGV[3])
local out = {}
for _ = 1, longest do
  local rec = redis.call('HMGET', prefix .. id, unpack(FIELDS))
  if not rec[1] then break end
  table.insert(out, id)
  for k = 1, #FIELDS do table.insert(out, rec[k] or '') end
  if not rec[3] or rec[3] == '' then break end
  id = rec[3]
end
return out
""".replace("FIELD_NAMES", ", ".join(f"'{f}'" for f in _FIELDS))


class RedisShelf:
    """Kept responses in Redis under ``link``'s namespace."""

    def __init__(
        self,
        link: RedisLink,
        *,
        ttl_s: int = TTL_S,
        max_count: int = MAX_COUNT,
        max_bytes: int = MAX_BYTES,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._link = link
        self.ttl_s, self.max_count, self.max_bytes, self._now = ttl_s, max_count, max_bytes, now
        self.prefix = f"{link.topic('responses')[0]}:"
        """Each record's key is this and its id."""
        self._index, self._sizes, self._total = (f"{link.ns}:responses-{n}" for n in ("index", "sizes", "bytes"))
        self._put = link.redis.register_script(_PUT)
        self._chain = link.redis.register_script(_CHAIN)
        self._queue: deque[tuple[Stored, asyncio.Future[None]]] = deque()
        self._sender: asyncio.Task[None] | None = None
        self._failed = False

    async def put(self, rec: Stored) -> None:
        done = asyncio.get_running_loop().create_future()
        self._queue.append((rec, done))
        if len(self._queue) > self.max_count:
            # Redis is far behind: the oldest waiting goes unkept, as the bounds would let it go.
            _, gone = self._queue.popleft()
            gone.set_result(None)
        if self._sender is None or self._sender.done():
            self._sender = asyncio.get_running_loop().create_task(self._send())
        await done

    async def _send(self) -> None:
        """Send what is put, a batch per round trip, and tell each put that it is done (kept or not)."""
        while self._queue:
            batch = [self._queue.popleft() for _ in range(min(BATCH, len(self._queue)))]
            try:
                await self._link.call(functools.partial(self._pipe, [rec for rec, _ in batch]))
            except Unavailable:
                pass  # the link has said Redis is down; these are not kept, as with store: false
            except Exception:
                if not self._failed:  # a bug, not an outage: said once, not once per batch
                    self._failed = True
                    log.exception("llmreplay: responses could not be kept in the shared state")
            finally:
                for _, done in batch:
                    if not done.done():
                        done.set_result(None)

    async def _pipe(self, batch: list[Stored]) -> None:
        now = self._now()
        if len(batch) == 1:  # no pipeline for one: it would cost as much again
            await self._put(*self._put_args(batch[0], now))
            return
        pipe = self._link.redis.pipeline(transaction=False)
        for rec in batch:
            await self._put(*self._put_args(rec, now), client=pipe)
        await pipe.execute()

    def _put_args(self, rec: Stored, now: float) -> tuple[list[str], list[Any]]:
        keys = [self.prefix + rec.id, self._index, self._sizes, self._total]
        args: list[Any] = [rec.id, now, self.ttl_s, self.max_count, self.max_bytes, self.prefix, rec.size]
        args += [rec.response, rec.inputs, rec.previous or "", "1" if rec.background else "", rec.done_at or ""]
        args.append(rec.events)
        return keys, args

    async def settled(self) -> None:
        """Wait until every put so far is done (closing)."""
        if self._sender is not None:
            await self._sender

    async def chain(self, response_id: str, longest: int = MAX_CHAIN) -> list[Stored] | None:
        try:
            flat = await self._link.call(lambda: self._chain(keys=[], args=[response_id, self.prefix, longest]))
        except Unavailable:
            return None
        out = _records(flat)
        out.reverse()
        return out or None

    async def drop(self, response_id: str) -> Stored | None:
        chain = await self.chain(response_id, 1)
        if chain is None:
            return None
        keys = [self.prefix + response_id, self._index, self._sizes, self._total]
        # A put of nothing over the bounds lets the record go and keeps nothing in its place.
        args = [response_id, self._now(), self.ttl_s, self.max_count, -1, self.prefix, 0, "", "", "", "", "", ""]
        try:
            await self._link.call(lambda: self._put(keys=keys, args=args))
        except Unavailable:
            return None
        return chain[-1]


def _records(flat: list[str]) -> list[Stored]:
    """The chain script's answer as records, newest first."""
    step = 1 + len(_FIELDS)
    out = []
    for i in range(0, len(flat) - step + 1, step):
        rid, response, inputs, previous, background, done_at, events = flat[i : i + step]
        out.append(
            Stored(
                rid,
                response.encode(),
                inputs.encode(),
                previous or None,
                background == "1",
                float(done_at) if done_at else None,
                (events or "").encode(),
            )
        )
    return out
