"""The request journal shared through Redis: each process keeps its own journal, and pushes its finished entries'
JSON to a capped list of its own, which every process reads to show one journal (:mod:`llmreplay.journal.merge`).

Nothing here is on the data path: the journal's listener only appends the finished entry to a bounded queue,
and a background task turns the queue into JSON and pushes it every :data:`PUSH_EVERY_S`. A list lives
:data:`LIST_TTL_MS` after its process last pushed (a heartbeat renews it), so a dead process's entries expire.
A clear (``DELETE /api/requests``) is a mark in one hash, applied when reading (see :mod:`~llmreplay.journal.merge`).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import time
from collections import deque
from typing import Any

from llmreplay.journal import Entry, Journal
from llmreplay.journal.merge import EVERY_TEST, Shared
from llmreplay.journal.view import as_json
from llmreplay.state.redis_link import RedisLink, Unavailable, admin_error

log = logging.getLogger("llmreplay.state")

PUSH_EVERY_S = 0.2
"""How often finished entries go to Redis: a read on another process sees an entry at most this late."""
HEARTBEAT_S = 5.0
LIST_TTL_MS = 30_000
"""A process that stops pushing (and beating) drops out of the shared journal after this long."""


class SharedJournal:
    """This process's finished entries in Redis, and every other process's read back."""

    def __init__(self, link: RedisLink, origin: str) -> None:
        self._link, self._origin = link, origin
        self._journal: Journal | None = None
        self._pending: deque[Entry] = deque()
        self._beat_at = 0.0

    def _key(self, origin: str) -> str:
        return f"{self._link.ns}:journal:{origin}"

    @property
    def _marks(self) -> str:
        # Outside the lists' pattern (journal:*), so a scan for lists never meets it.
        return f"{self._link.ns}:journal-cleared"

    def attach(self, journal: Journal) -> None:
        """Share ``journal``'s finished entries from now on (none when its size is 0)."""
        self._journal = journal
        self._pending = deque(maxlen=max(1, journal.size))
        journal.listeners.append(self._heard)

    def _heard(self, entry: Entry) -> None:
        self._pending.append(entry)

    # ---- pushing ---------------------------------------------------------------------------------
    async def publish(self) -> None:
        """Push the finished entries every :data:`PUSH_EVERY_S` (and beat), until the state closes."""
        while not self._link.closing:
            await asyncio.sleep(PUSH_EVERY_S)
            with contextlib.suppress(Unavailable):
                await self.push()

    async def push(self) -> None:
        """Push what finished since the last push (or only beat, every :data:`HEARTBEAT_S`); raises
        :class:`Unavailable` on an outage, keeping the entries for the next try."""
        journal = self._journal
        if journal is None or not journal.size:
            return
        batch = self._pending
        now = time.monotonic()
        if not batch and now < self._beat_at:
            return
        self._pending = deque(maxlen=batch.maxlen)
        items = [json.dumps({"t": e.time, "entry": as_json(e)}, ensure_ascii=False) for e in batch]
        try:
            await self._link.call(functools.partial(self._send, items, journal.size))
        except Unavailable:
            # Kept for the next try, the oldest dropped first beyond the journal's size.
            kept = deque(batch, maxlen=batch.maxlen)
            kept.extend(self._pending)
            self._pending = kept
            raise
        self._beat_at = now + HEARTBEAT_S

    async def _send(self, items: list[str], size: int) -> None:
        key = self._key(self._origin)
        async with self._link.redis.pipeline(transaction=True) as pipe:
            if items:
                pipe.rpush(key, *items)
                pipe.ltrim(key, -size, -1)
            pipe.pexpire(key, LIST_TTL_MS)
            await pipe.execute()

    async def flush(self) -> None:
        """One last push on close, under the link's deadline."""
        self._beat_at = 0.0
        with contextlib.suppress(Unavailable):
            await self.push()

    # ---- reading and clearing ----------------------------------------------------------------------
    async def shared(self) -> Shared | None:
        """The other live processes' finished entries and the clear marks; None when Redis cannot be reached."""
        try:
            return await self._link.call(self._read, rounds=4)
        except Unavailable:
            return None

    async def _read(self) -> Shared:
        redis = self._link.redis
        mine = self._key(self._origin)
        names = [n async for n in redis.scan_iter(match=self._key("*"), count=500) if n != mine]
        async with redis.pipeline(transaction=False) as pipe:
            for name in names:
                pipe.lrange(name, 0, -1)
            pipe.hgetall(self._marks)
            *lists, marks = await pipe.execute()
        others: list[tuple[float, dict[str, Any]]] = []
        for values in lists:
            for raw in values:
                try:
                    item = json.loads(raw)
                    others.append((float(item["t"]), item["entry"]))
                except (ValueError, KeyError, TypeError):
                    continue  # another version's entry: not shown rather than a failed read
        cleared: dict[str, float] = {}
        for k, v in marks.items():
            with contextlib.suppress(ValueError):
                cleared[k] = float(v)
        return Shared(others, cleared)

    async def clear(self, test_id: str | None) -> None:
        """Mark ``test_id``'s entries (None: every entry) cleared in every process. Raises the admin API's
        503 when Redis cannot be reached."""
        try:
            await self._link.call(functools.partial(self._mark, test_id, time.time()))
        except Unavailable as exc:
            raise admin_error() from exc

    async def _mark(self, test_id: str | None, now: float) -> None:
        async with self._link.redis.pipeline(transaction=True) as pipe:
            if test_id is None:
                pipe.delete(self._marks)  # one mark for everything supersedes every test's
            pipe.hset(self._marks, EVERY_TEST if test_id is None else test_id, repr(now))
            await pipe.execute()
