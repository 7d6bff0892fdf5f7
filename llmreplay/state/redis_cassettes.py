"""Cassettes loaded at run time, shared through Redis: a load, unload or reload made through one process's admin
API is stored and published; the others do the same (pub/sub), each reading the file from its own disk, and one
that was not listening (just started, or back from an outage) takes the stored set.

The hash maps each cassette's name to the file it was loaded from; an unload removes the field. Each process
keeps its own cursors and counts. What reading a file means is the app's (:meth:`SharedCassettes.apply`): this
module knows names and paths only.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable

from llmreplay.state import redis_link
from llmreplay.state.redis_link import RedisLink, Unavailable, admin_error

log = logging.getLogger("llmreplay.state")

Apply = Callable[[str, str | None], Awaitable[None]]
"""Load cassette ``name`` from ``path`` in this process (None: unload it); logs what it cannot do."""


class SharedCassettes:
    """Publishes this process's cassette loads and unloads and makes the others'."""

    def __init__(self, link: RedisLink, origin: str) -> None:
        self._link, self._origin = link, origin
        self._key, self.channel = link.topic("cassettes")
        self.apply: Apply | None = None
        self.following = asyncio.Event()
        self._queue: asyncio.Queue[tuple[str, str | None]] = asyncio.Queue()
        """Loads and unloads to make, one at a time and in the order they were published."""

    async def share(self, name: str, path: str | None) -> None:
        """Store and publish that ``name`` is now loaded from ``path`` (None: unloaded); raises the admin API's
        503 when Redis cannot be reached (the change is then this process's alone)."""
        message = json.dumps({"origin": self._origin, "name": name, "path": path})

        async def run() -> None:
            async with self._link.redis.pipeline(transaction=True) as pipe:
                if path is None:
                    pipe.hdel(self._key, name)
                else:
                    pipe.hset(self._key, name, path)
                pipe.publish(self.channel, message)
                await pipe.execute()

        try:
            await self._link.call(run, rounds=2)
        except Unavailable as exc:
            raise admin_error() from exc

    def _take(self, message: str) -> None:
        try:
            parsed = json.loads(message)
            if parsed.get("origin") == self._origin:
                return
            path = parsed["path"]
            self._queue.put_nowait((str(parsed["name"]), None if path is None else str(path)))
        except Exception as exc:  # a bad message from another version must not stop the follower
            log.warning("llmreplay: ignored a shared cassette change that does not apply here (%s)", exc)

    async def _load_stored(self) -> None:
        stored = await self._link.call(lambda: self._link.redis.hgetall(self._key))
        for name, path in stored.items():
            self._queue.put_nowait((name, path))

    async def _work(self) -> None:
        while True:
            name, path = await self._queue.get()
            if self.apply is None:
                continue
            try:
                await self.apply(name, path)
            except Exception:  # one cassette that cannot be read must not stop the others
                log.exception("llmreplay: could not take the shared cassette %s", name)

    async def follow(self) -> None:
        """Make other processes' changes as they are published; after an outage, take the stored set again."""
        if self.apply is None:
            return
        worker = asyncio.create_task(self._work())
        try:
            link = self._link
            await redis_link.follow(link, self.channel, self.following, self._load_stored, self._take)
        finally:
            worker.cancel()
