"""Where kept Responses are held: the contract, and this process's memory (the default).

A shelf only holds :class:`~llmreplay.providers.openai_responses_store.Stored` records by id; what they mean
(a chain, a background response's progress, a cancel) is :mod:`llmreplay.state.responses`'. Every call is
awaited: a shared shelf asks Redis (:mod:`llmreplay.state.redis_responses`).
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Protocol

from llmreplay.providers.openai_responses_store import Stored

MAX_COUNT = 10_000
"""Responses kept at most."""
MAX_BYTES = 64 * 1024 * 1024
"""Bytes kept at most (response objects and input items as sent)."""
MAX_CHAIN = 1_000
"""Responses a ``previous_response_id`` chain is followed back through at most."""


class Shelf(Protocol):
    async def chain(self, response_id: str, longest: int = MAX_CHAIN) -> list[Stored] | None:
        """The responses ``response_id`` continues and itself, oldest first, ``longest`` at most; None when it
        is not kept. A link let go (the bounds) ends the chain there, as the turns before it are gone."""

    async def put(self, rec: Stored) -> None:
        """Keep ``rec`` (replacing the record of the same id), letting the oldest go past the bounds; done when
        any process that asks finds it."""

    async def drop(self, response_id: str) -> Stored | None:
        """Forget ``response_id``; its record, if it was kept."""


class MemoryShelf:
    """Responses by id in this process, the least recently kept first out: at most ``max_count`` of them and
    ``max_bytes`` (:attr:`Stored.size`) in all."""

    def __init__(self, max_count: int = MAX_COUNT, max_bytes: int = MAX_BYTES) -> None:
        self.max_count, self.max_bytes = max_count, max_bytes
        self._kept: OrderedDict[str, Stored] = OrderedDict()
        self.bytes = 0

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, response_id: str) -> Stored | None:
        return self._kept.get(response_id)

    async def put(self, rec: Stored) -> None:
        self.add(rec)

    def add(self, rec: Stored) -> None:
        old = self._kept.pop(rec.id, None)
        if old is not None:
            self.bytes -= old.size
        if rec.size > self.max_bytes:
            return
        self._kept[rec.id] = rec
        self.bytes += rec.size
        while len(self._kept) > self.max_count or self.bytes > self.max_bytes:
            _, gone = self._kept.popitem(last=False)
            self.bytes -= gone.size

    async def drop(self, response_id: str) -> Stored | None:
        rec = self._kept.pop(response_id, None)
        if rec is not None:
            self.bytes -= rec.size
        return rec

    async def chain(self, response_id: str, longest: int = MAX_CHAIN) -> list[Stored] | None:
        return self.chain_now(response_id, longest)

    def chain_now(self, response_id: str, longest: int = MAX_CHAIN) -> list[Stored] | None:
        rec = self._kept.get(response_id)
        if rec is None:
            return None
        out = [rec]
        while rec.previous is not None and len(out) < longest:
            earlier = self._kept.get(rec.previous)
            if earlier is None:
                break
            out.append(earlier)
            rec = earlier
        out.reverse()
        return out
