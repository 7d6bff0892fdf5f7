"""A proxied stream's chunks handed to the client from the upstream connection's own read.

Iterating an aiohttp response body costs a task wake-up per chunk: the client protocol parses the chunk,
wakes the future ``readany`` waits on, and the loop resumes the writer's coroutine on its next turn, through
three awaits, to write it on (~37 µs of the record proxy's CPU per chunk, issue 23). A :class:`Pipe` stands
where that future would be, in the body's ``StreamReader``, so that the reader's wake-up is one plain callback
on the loop: it keeps the chunk for the recording and writes it to the client, with no task between.

The pipe stops (and its ``over`` future is done) whenever anything other than a chunk happens: the body ends,
breaks, the client is gone or reads too slowly (its connection's writing is paused). Whoever started it then
carries on by iterating the body as before, which meets the end or the error where it is and waits out the
slow client; the pipe itself never interprets them. aiohttp is pinned, and the pipe depends on one private
name of its ``StreamReader`` (``_waiter``); where that is not as expected, :func:`start_pipe` declines and the
body is iterated.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import aiohttp

ChunkSink = Callable[[bytes], bool]
"""Takes a chunk for the client; False once the client cannot take another now (gone, or its writes paused)."""
Keep = Callable[[bytes], None]
"""Keeps a chunk for the recording, as it arrives."""


class Pipe:
    """What a ``StreamReader`` wakes instead of a reader's future: ``done`` and ``set_result`` are the part of a
    future it calls (aiohttp's ``set_result`` helper), and ``set_exception`` its error path."""

    __slots__ = ("_content", "_keep", "_loop", "_sink", "over")

    def __init__(
        self, content: aiohttp.StreamReader, keep: Keep, sink: ChunkSink, loop: asyncio.AbstractEventLoop
    ) -> None:
        self._content = content
        self._loop = loop
        self._keep = keep
        self._sink = sink
        self.over: asyncio.Future[None] = loop.create_future()

    def done(self) -> bool:
        return False

    def set_result(self, _: object) -> None:
        # Called from inside aiohttp's parser: reading here can make the protocol resume and feed that same
        # parser again before it returns, which leaves the connection stalled. The read goes right after.
        self._loop.call_soon(self._run)

    def _run(self) -> None:
        # The reader cleared its waiter when it woke this: hook again only if the stream goes on through the pipe.
        if not self.over.done() and self._flow():
            self._content._waiter = self  # type: ignore[assignment]

    def set_exception(self, exc: BaseException) -> None:
        # The body broke: iterating it raises the error where the reader keeps it.
        self._stop()

    def stop(self) -> None:
        """Let go of the reader (its exchange is over or cut short), leaving its waiter as it was found."""
        if self._content._waiter is self:  # type: ignore[comparison-overlap]
            self._content._waiter = None
        self._stop()

    def _flow(self) -> bool:
        """Hand on what the reader holds; whether the pipe goes on."""
        content = self._content
        while True:
            # Reading can make the protocol resume and feed more in before this returns (aiohttp says so of
            # ``_read_nowait``), with no waiter to wake: read until the reader is empty.
            data = content.read_nowait()
            if not data:
                break
            self._keep(data)
            if not self._sink(data):
                self._stop()
                return False
        if content.is_eof() or content.exception() is not None:
            self._stop()
            return False
        return True

    def _stop(self) -> None:
        if not self.over.done():
            self.over.set_result(None)


def start_pipe(content: aiohttp.StreamReader, keep: Keep, sink: ChunkSink) -> Pipe | None:
    """A pipe from ``content`` to ``sink``, already through what ``content`` holds; None where the reader is
    not as this module expects (its ``over`` is then not to be waited for: iterate the body instead)."""
    if getattr(content, "_waiter", True) is not None or content.exception() is not None:
        return None
    pipe = Pipe(content, keep, sink, asyncio.get_running_loop())
    if pipe._flow():
        content._waiter = pipe  # type: ignore[assignment]
    return pipe
