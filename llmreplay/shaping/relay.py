"""A live stream written to the client from the upstream's read, when no stage stands between them.

The writer iterates a live answer frame by frame, a task wake-up and an ``await`` through aiohttp's response
writer per chunk. A proxied stream that no stage has wrapped (no stall, cut or slow first token: its frames are
due on arrival) offers ``pipe(sink)`` instead (:mod:`llmreplay.sources.response`), and the :class:`Relay` is the
sink: each chunk is chunk-coded and written to the client's transport in the callback that read it upstream.
When the pipe stops, the relay waits out a slow client if that was why, and pipes again; anything else (the end,
an error) is left to the writer's iteration, which meets it where the pipe stopped.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol, runtime_checkable

from llmreplay.shaping.chunked import chunk

_DRAIN_POLL_S = 0.005
"""How often a relay paused for a slow client looks whether the client's connection has taken its writes."""


class Paused(Protocol):
    """The client connection's protocol, which says when its transport's buffer is full."""

    @property
    def writing_paused(self) -> bool: ...


@runtime_checkable
class Piped(Protocol):
    """Live frames that can hand each chunk to a sink as it is read (the upstream's own body)."""

    def pipe(self, sink: Callable[[bytes], bool]) -> asyncio.Future[None] | None: ...


class Relay:
    """The sink a pipe writes to: the client's transport, chunk-coded when the response is."""

    __slots__ = ("_chunked", "_now", "_protocol", "_transport", "first", "lost", "n")

    def __init__(
        self, transport: asyncio.Transport | None, protocol: Paused, chunked: bool, now: Callable[[], float]
    ) -> None:
        self._transport = transport
        self._protocol = protocol
        self._chunked = chunked
        self._now = now
        self.first: float | None = None
        """The clock's time of the first chunk written, if one was."""
        self.n = 0
        """Chunks written."""
        self.lost = False
        """The client went away while chunks were coming."""

    def __call__(self, data: bytes) -> bool:
        transport = self._transport
        if transport is None or transport.is_closing():
            self.lost = True
            return False
        transport.write(b"".join(chunk(data)) if self._chunked else data)
        self.n += 1
        if self.first is None:
            self.first = self._now()
        return not self._protocol.writing_paused

    async def run(self, live: Piped) -> None:
        """Relay ``live`` until it ends, breaks or cannot be piped (the writer's iteration takes it from there);
        ConnectionResetError when the client leaves."""
        while (over := live.pipe(self)) is not None:
            await over
            if self.lost:
                raise ConnectionResetError("client gone mid-stream")
            if not self._protocol.writing_paused:
                return
            transport = self._transport
            while self._protocol.writing_paused and transport is not None and not transport.is_closing():
                await asyncio.sleep(_DRAIN_POLL_S)
