"""Metrics shared through Redis: each process stores its snapshot every second (:data:`METRICS_EVERY_S`),
and :meth:`SharedMetrics.merged` merges every live process's with this one's
(:mod:`llmreplay.state.merged_metrics`)."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
from typing import Any, Protocol

from llmreplay.state.merged_metrics import merge_snapshots
from llmreplay.state.redis_link import RedisLink, Unavailable

METRICS_EVERY_S = 1.0
METRICS_TTL_MS = 3_000
"""A process that stops publishing drops out of the merged metrics after this long."""


class MetricsSource(Protocol):
    def snapshot(self) -> dict[str, Any]: ...

    def reset(self) -> None: ...


class SharedMetrics:
    """This process's metrics snapshot in Redis, and every process's merged."""

    def __init__(self, link: RedisLink, origin: str, source: MetricsSource | None) -> None:
        self._link, self._origin = link, origin
        self.source = source
        """This process's metrics; None until attached."""

    def _key(self, origin: str) -> str:
        return f"{self._link.ns}:metrics:{origin}"

    async def publish(self) -> None:
        """Store this process's snapshot every second, until the state closes."""
        while not self._link.closing:
            if self.source is not None:
                payload = json.dumps({"pid": os.getpid(), "snapshot": self.source.snapshot()})
                key = self._key(self._origin)
                with contextlib.suppress(Unavailable):
                    await self._link.call(functools.partial(self._link.redis.set, key, payload, px=METRICS_TTL_MS))
            await asyncio.sleep(METRICS_EVERY_S)

    def reset_local(self) -> None:
        """Another process reset the metrics: reset this one's too."""
        if self.source is not None:
            self.source.reset()

    async def drop_snapshots(self) -> None:
        """Drop every process's stored snapshot, so that the merged view holds no count from before a reset;
        each process stores its own again within a second."""
        await self._link.unlink(self._key("*"))

    async def forget(self) -> None:
        """Drop this process's snapshot (on close), at once rather than when it expires."""
        link = self._link
        with contextlib.suppress(*link.failures):
            async with asyncio.timeout(link.timeout):
                await link.redis.delete(self._key(self._origin))

    async def merged(self) -> dict[str, Any] | None:
        """This process's metrics merged with every live process's, or None when no metrics are attached
        or Redis cannot be reached."""
        if self.source is None:
            return None
        local = self.source.snapshot()
        mine = self._key(self._origin)
        redis = self._link.redis

        async def others() -> list[dict[str, Any]]:
            names = [n async for n in redis.scan_iter(match=self._key("*"), count=500) if n != mine]
            values = await redis.mget(names) if names else []
            return [json.loads(v)["snapshot"] for v in values if v]

        try:
            found = await self._link.call(others, rounds=4)
        except Unavailable:
            return None
        return merge_snapshots(local, found)
