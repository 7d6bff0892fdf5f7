"""Rules shared through Redis: a change made through one process's admin API is stored and published; the
others take it (pub/sub), and one that was not listening reloads the stored sets.

Each set (the global one, each test's) is one field of a hash, as JSON that parses back to the same rules.
The hash remembers the rules file it grew from (a digest of its global set at start): a process that starts
with the same file takes the stored sets (a replica joining, changes made at run time and all), one that
starts with another file (a restart after the file changed) replaces them with its own. Counts of matches
stay each process's own.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from typing import Any

from llmreplay.rules import RuleBook
from llmreplay.state import redis_link
from llmreplay.state.redis_link import RedisLink, Unavailable, admin_error

log = logging.getLogger("llmreplay.state")

_GLOBAL = ""
"""The hash field of the global set (a test id is never empty)."""
_ORIGIN = "\0file"
"""The hash field holding the digest of the start-up set the stored sets grew from."""


class SharedRules:
    """Publishes this process's rule changes and takes the others'."""

    def __init__(self, link: RedisLink, origin: str) -> None:
        self._link, self._origin = link, origin
        self._key, self.channel = link.topic("rules")
        self.book: RuleBook | None = None
        self.following = asyncio.Event()
        """Set while other processes' rule changes are being received."""

    async def start(self) -> None:
        """Take the stored sets, or store this process's when it started from another rules file."""
        if self.book is None:
            return
        book = self.book
        mine = book.docs()
        digest = hashlib.sha256(json.dumps(mine, sort_keys=True).encode()).hexdigest()

        async def run() -> None:
            stored = await self._link.redis.hget(self._key, _ORIGIN)
            if stored == digest:
                self._take_all(await self._link.redis.hgetall(self._key))
                return
            async with self._link.redis.pipeline(transaction=True) as pipe:
                pipe.delete(self._key)
                pipe.hset(self._key, mapping={_ORIGIN: digest, _GLOBAL: json.dumps(mine)})
                pipe.publish(self.channel, json.dumps({"origin": self._origin, "reload": True}))
                await pipe.execute()

        with contextlib.suppress(Unavailable):
            await self._link.call(run, rounds=2)

    async def share(self, test_id: str | None, docs: list[dict[str, Any]] | None) -> None:
        """Store ``test_id``'s set as ``docs`` (None: every set cleared) and tell the others; raises the admin
        API's 503 when Redis cannot be reached (the change is then this process's alone)."""
        field = _GLOBAL if test_id is None else test_id
        message = json.dumps({"origin": self._origin, "test_id": test_id, "rules": docs})

        async def run() -> None:
            async with self._link.redis.pipeline(transaction=True) as pipe:
                if docs is None:
                    # Every set goes; what file the sets grew from stays (a restart with it finds no rules).
                    kept = await self._link.redis.hget(self._key, _ORIGIN)
                    pipe.delete(self._key)
                    pipe.hset(self._key, mapping={_GLOBAL: "[]", **({_ORIGIN: kept} if kept else {})})
                elif docs or test_id is None:
                    pipe.hset(self._key, field, json.dumps(docs))
                else:
                    pipe.hdel(self._key, field)
                pipe.publish(self.channel, message)
                await pipe.execute()

        try:
            await self._link.call(run, rounds=2)
        except Unavailable as exc:
            raise admin_error() from exc

    def _take_all(self, stored: dict[str, str]) -> None:
        book = self.book
        assert book is not None
        book.take_shared(None, None)
        for field, raw in stored.items():
            if field == _ORIGIN:
                continue
            self._take(field or None, raw)

    def _take(self, test_id: str | None, raw: str) -> None:
        assert self.book is not None
        try:
            docs = json.loads(raw)
        except ValueError as exc:
            log.warning("llmreplay: ignored shared rules that are not JSON (%s)", exc)
            return
        self.book.take_shared(test_id, docs if isinstance(docs, list) else None)

    def _apply(self, message: str) -> None:
        try:
            parsed = json.loads(message)
            if parsed.get("origin") == self._origin or self.book is None:
                return
            if parsed.get("reload"):
                self.following.clear()  # the follower reloads the stored sets
                return
            docs = parsed["rules"]
            self.book.take_shared(parsed.get("test_id"), docs if isinstance(docs, list) else None)
        except Exception as exc:  # a bad message from another version must not stop the follower
            log.warning("llmreplay: ignored a shared rules change that does not apply here (%s)", exc)

    async def follow(self) -> None:
        """Take other processes' changes as they are published; after an outage, reload the stored sets."""
        link = self._link

        async def load() -> None:
            self._take_all(await link.call(lambda: link.redis.hgetall(self._key)))

        await redis_link.follow(link, self.channel, self.following, load, self._apply, lambda: self.book is not None)
