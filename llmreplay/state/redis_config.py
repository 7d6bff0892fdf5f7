"""The live configuration shared through Redis: a local change is stored and published whole; other
processes apply it (pub/sub), and one that was not listening reloads the stored copy.

The same channel carries the one other message processes tell each other: reset your metrics.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
from collections.abc import Callable

from llmreplay.control.live import LiveConfig
from llmreplay.state import redis_link
from llmreplay.state.redis_link import RedisLink, Unavailable

log = logging.getLogger("llmreplay.state")


class ConfigFollower:
    """Publishes this process's configuration changes and applies the others'."""

    def __init__(self, link: RedisLink, origin: str, on_metrics_reset: Callable[[], None]) -> None:
        self._link, self._origin, self._on_metrics_reset = link, origin, on_metrics_reset
        self._key, self.channel = link.topic("config")
        self._live: LiveConfig | None = None
        self._publish_lock = asyncio.Lock()
        self.pending: set[asyncio.Task[None]] = set()
        """Publications still under way (closing cancels them)."""
        self.following = asyncio.Event()
        """Set while other processes' configuration changes are being received."""

    async def start(self, live: LiveConfig) -> None:
        """Publish ``live``'s changes from now on, and take the stored configuration (or store this one)."""
        self._live = live
        live.listeners.append(self._local_change)
        with contextlib.suppress(Unavailable):
            await self._load(first=True)

    def stop(self) -> None:
        if self._live is not None and self._local_change in self._live.listeners:
            self._live.listeners.remove(self._local_change)

    def _local_change(self, what: str, endpoint: str | None) -> None:
        if what == "remote" or self._live is None:
            return
        message = json.dumps({"origin": self._origin, "snapshot": self._live.snapshot()})
        task = asyncio.get_running_loop().create_task(self._publish(message))
        self.pending.add(task)
        task.add_done_callback(self.pending.discard)

    async def _publish(self, message: str) -> None:
        async def run() -> None:
            async with self._link.redis.pipeline(transaction=True) as pipe:
                pipe.set(self._key, message)
                pipe.publish(self.channel, message)
                await pipe.execute()

        # The lock keeps this process's changes in the order they were made.
        async with self._publish_lock:
            with contextlib.suppress(Unavailable):
                await self._link.call(run)

    async def tell_metrics_reset(self) -> None:
        """Tell every other process to reset its JSON metrics. Published, never stored: a process that
        starts later has nothing to reset."""
        message = json.dumps({"origin": self._origin, "reset": "metrics"})
        with contextlib.suppress(Unavailable):
            await self._link.call(functools.partial(self._link.redis.publish, self.channel, message))

    async def _load(self, first: bool = False) -> None:
        """Take the stored configuration; the first process to start stores its own."""
        assert self._live is not None
        stored = await self._link.call(lambda: self._link.redis.get(self._key))
        if stored is None:
            if first:
                message = json.dumps({"origin": self._origin, "snapshot": self._live.snapshot()})
                await self._link.call(lambda: self._link.redis.set(self._key, message, nx=True))
            return
        self._apply(stored)

    def _apply(self, message: str) -> None:
        assert self._live is not None
        try:
            parsed = json.loads(message)
            if parsed.get("origin") == self._origin:
                return
            if parsed.get("reset") == "metrics":
                self._on_metrics_reset()
                return
            if parsed["snapshot"] == self._live.snapshot():
                return
            self._live.apply_snapshot(parsed["snapshot"])
        except Exception as exc:  # a bad message from another version must not stop the follower
            log.warning("llmreplay: ignored a shared configuration that does not apply here (%s)", exc)

    async def follow(self) -> None:
        """Apply other processes' changes as they are published; after an outage, reload the stored one."""
        await redis_link.follow(self._link, self.channel, self.following, self._load, self._apply)
