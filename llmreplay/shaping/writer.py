"""The writer: the shaper's last stage, the only one that awaits.

It writes each batch of frames at its absolute deadline (exchange start + offset),
never ``sleep(gap)`` in a loop, so errors do not add up over a long stream. Batches
are pre-joined before the first byte; per frame it only sleeps and writes. It also
carries out abnormal endings (:class:`Cut`): a reset, a close without the end of
the body, or a hang until the client gives up.

The interface is one method so that a process-wide scheduler (one timer wheel
waking once per tick for every stream) can replace it without touching the rest.
"""

from __future__ import annotations

import asyncio
import logging
import socket
import struct

from aiohttp import web
from multidict import CIMultiDict

from llmreplay.model import Answer, Cut
from llmreplay.shaping.timing import batches

log = logging.getLogger("llmreplay.writer")

_HANG_POLL_S = 0.25
"""How often a hanging exchange checks whether its client has gone."""


class Writer:
    """Sends an :class:`Answer` whose frames carry their due times."""

    async def send(
        self, request: web.Request, answer: Answer, t0: float, marks: dict[str, float] | None = None
    ) -> web.StreamResponse:
        """Write ``answer``; ``marks`` gets ``first`` (loop time of the first body write) and ``chunks``."""
        loop = asyncio.get_running_loop()
        if answer.headers_at > 0:
            await _sleep_until(loop, t0 + answer.headers_at)
        cut = answer.cut
        if cut is not None and cut.before_headers:
            await _carry_out(request, cut, t0)
            return _Dead()
        headers = CIMultiDict(answer.headers)
        if not answer.stream and cut is None:
            due = t0 + (answer.frames[0].at or 0.0) if answer.frames else t0
            await _sleep_until(loop, due)
            if marks is not None:
                marks["first"] = loop.time()
            return web.Response(status=answer.status, headers=headers, body=answer.body)

        plan = batches(answer.frames)
        resp = web.StreamResponse(status=answer.status, headers=headers)
        try:
            await resp.prepare(request)
            for i, (at, data) in enumerate(plan):
                await _sleep_until(loop, t0 + at)
                await resp.write(data)
                if marks is not None:
                    if i == 0:
                        marks["first"] = loop.time()
                    marks["chunks"] = i + 1
            if cut is not None:
                await _carry_out(request, cut, t0)
                return _Dead()
            await resp.write_eof()
        except ConnectionError:
            # The client went away mid-stream: there is no one left to answer.
            log.debug("client disconnected during %s", request.path)
        return resp


async def _sleep_until(loop: asyncio.AbstractEventLoop, deadline: float) -> None:
    delay = deadline - loop.time()
    if delay > 0:
        await asyncio.sleep(delay)


async def _carry_out(request: web.Request, cut: Cut, t0: float) -> None:
    loop = asyncio.get_running_loop()
    transport = request.transport
    if cut.how == "hang":
        deadline = t0 + (cut.at if cut.at is not None else float("inf"))
        while transport is not None and not transport.is_closing() and loop.time() < deadline:
            await asyncio.sleep(min(_HANG_POLL_S, max(0.0, deadline - loop.time())))
        _close(transport)
        return
    if cut.at is not None:
        await _sleep_until(loop, t0 + cut.at)
    if transport is None or transport.is_closing():
        return
    if cut.how == "reset":
        sock = transport.get_extra_info("socket")
        if sock is not None:
            # Linger 0: the kernel answers the close with RST, as a crashed peer would.
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        transport.abort()
    else:
        _close(transport)


def _close(transport: asyncio.BaseTransport | None) -> None:
    if transport is not None and not transport.is_closing():
        transport.close()


class _Dead(web.StreamResponse):
    """Returned for a connection the writer has cut: there is nothing left to send."""

    def __init__(self) -> None:
        super().__init__(status=499)

    async def prepare(self, request: web.BaseRequest) -> None:  # type: ignore[override]
        return None

    async def write_eof(self, data: bytes = b"") -> None:
        return None
