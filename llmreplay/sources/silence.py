"""A proxied answer whose upstream falls silent, noticed by one timer for every answer.

A read timeout moved on every chunk is a cancel and a new ``call_later`` (~1.5 µs, and a cancelled handle left
in the loop's heap), twenty times for a twenty-event stream. An answer's body is watched here instead: every
quarter of the timeout one timer looks at how many bytes each answer has received, and one that received nothing
for the whole timeout, with nothing of it left unread, ends with a timeout where it is read (the upstream's
client, :mod:`llmreplay.sources.client`, times the head alone). A silence is noticed within 1.25 timeouts.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Protocol

from llmreplay.shaping.clock import clock
from llmreplay.sources.response import UpstreamError

Taken = Callable[[], int]
"""How many bytes of a stream its reader has handed on so far."""


class Reader(Protocol):
    """What is watched of an answer's body (:class:`~llmreplay.sources.response.Response`)."""

    @property
    def total_bytes(self) -> int:
        """Bytes of the body received so far."""
        ...

    def is_eof(self) -> bool: ...

    def exception(self) -> BaseException | None: ...

    def set_exception(self, exc: BaseException) -> None: ...


class Silence:
    """Watches stream readers for an upstream that stops sending (``timeout`` seconds without a byte)."""

    def __init__(self, timeout: float, now: Callable[[], float] = clock) -> None:
        self.timeout = timeout
        self._now = now
        self._watched: dict[Reader, tuple[Taken, int, float]] = {}
        """Each reader: what its consumer took, the bytes it had received at the last look, and since when."""
        self._timer: asyncio.TimerHandle | None = None

    def watch(self, reader: Reader, taken: Taken) -> None:
        self._watched[reader] = (taken, reader.total_bytes, self._now())
        if self._timer is None:
            self._arm()

    def forget(self, reader: Reader) -> None:
        self._watched.pop(reader, None)
        if not self._watched and self._timer is not None:
            self._timer.cancel()
            self._timer = None

    def _arm(self) -> None:
        self._timer = asyncio.get_running_loop().call_later(self.timeout / 4, self._look)

    def _look(self) -> None:
        now = self._now()
        for reader, (taken, heard, since) in list(self._watched.items()):
            if reader.is_eof() or reader.exception() is not None:
                # Over (or broken) already: nothing is awaited of the upstream, however long its reader waits for
                # a client to take the rest.
                del self._watched[reader]
                continue
            received = reader.total_bytes
            if received != heard or taken() < received:
                # Bytes came, or some wait to be read (the client is slow, not the upstream): a new silence
                # starts from now.
                self._watched[reader] = (taken, received, now)
            elif now - since >= self.timeout:
                del self._watched[reader]
                reader.set_exception(UpstreamError("timeout", "Timeout on reading data from socket"))
        self._timer = None
        if self._watched:
            self._arm()
