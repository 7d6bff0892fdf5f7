"""A call the express lane sent upstream, answered from a task of the lane's own: the upstream's head and the body
that came with it in one write, then each chunk relayed in the upstream connection's read, as the writer relays
them (:class:`~llmreplay.shaping.relay.Relay`), without aiohttp's request, middleware, handler and response.

The lane keeps the client's connection until the answer is over (:meth:`~llmreplay.arrival._StampedHandler.lane_keeps`):
a request pipelined behind it waits, and is aiohttp's once it is out. An answer the lane would not write as the
writer does (one a stage holds back, cuts or delays; a head aiohttp would frame otherwise) goes to aiohttp's
handler after all, ready to be written, as the lane hands on every other answer it cannot write at once.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable
from typing import TYPE_CHECKING, NoReturn

from llmreplay import road
from llmreplay.heads import head_of, stream_head_of, whole
from llmreplay.labels import source_label
from llmreplay.middleware import log_access
from llmreplay.observers import Done
from llmreplay.resume import ready
from llmreplay.shaping.chunked import chunk
from llmreplay.shaping.relay import Piped, Relay
from llmreplay.shaping.writer import carry_out, clock
from llmreplay.sources.cassette import cassette_label, match_of

if TYPE_CHECKING:
    from aiohttp.http_parser import RawRequestMessage

    from llmreplay.arrival import Parsed, _StampedHandler
    from llmreplay.codec import Route
    from llmreplay.exchange import Exchange
    from llmreplay.model import Answer
    from llmreplay.runtime import Runtime

log = logging.getLogger("llmreplay")


async def relayed(
    rt: Runtime,
    conn: _StampedHandler,
    message: RawRequestMessage,
    body: bytes,
    route: Route,
    t0: float,
    started: float,
    begun: Awaitable[road.Prepared],
) -> bool:
    """Answer the call ``begun`` (on its way upstream; ``t0``: its arrival, ``started``: its reading, for the access
    log) on ``conn``, and give the connection back; False where its answer went to aiohttp to write."""
    handed: Parsed | None = None
    try:
        try:
            prepared = await begun
        except Exception as exc:  # aiohttp's handler meets it again, and answers it as every unexpected error
            handed = conn.hand_on(message, body, (t0, _raise(exc)))
            return False
        answer, later, settled = prepared
        closing = message.should_close
        head = _head(answer, later, t0, closing)
        if head is None:
            handed = conn.hand_on(message, body, (t0, ready(prepared)))
            return False
        if answer.live is None and settled is not None:
            # As from the handler, whose plain answer aiohttp sends once it returns: a client that has the answer
            # finds its recording made.
            await settled
        await _answer(rt, conn, route, t0, started, answer, later, head)
        if closing:
            conn.force_close()  # after the answer's last byte, as aiohttp closes such a connection
        elif settled is not None:
            await settled  # as the handler does: the next call on this connection finds the recording made
        return True
    finally:
        conn.lane_done(handed)


def _head(answer: Answer, later: Done | Exchange, t0: float, closing: bool) -> bytes | None:
    """The head the lane writes for ``answer`` as the writer would send it now (``closing``: on a connection to be
    closed after it); None for one it sends otherwise."""
    due_by = clock() - t0
    if answer.live is None:
        return head_of(answer, later, closing) if whole(answer, due_by) else None
    if not isinstance(answer.live, Piped) or answer.cut is not None or answer.headers_at:
        return None  # a stage stands between the upstream and the client
    if any(f.at is not None and f.at > due_by for f in answer.frames):
        return None
    return stream_head_of(answer, later, closing)


async def _answer(
    rt: Runtime,
    conn: _StampedHandler,
    route: Route,
    t0: float,
    started: float,
    answer: Answer,
    later: Done | Exchange,
    head: bytes,
) -> None:
    """Write ``answer`` after ``head``, and tell the observers and the access log, as the road's handler does."""
    rt.writer.poll()
    path = later.path if isinstance(later, Done) else later.call.path
    endpoint = later.endpoint if isinstance(later, Done) else later.route.endpoint
    rt.observers.started(endpoint, "POST", path, answer.stream, route.key)
    marks: dict[str, float] = {}
    transport = conn.transport
    live = answer.live
    if live is None:
        if transport is not None and not transport.is_closing():
            transport.write(head + answer.body)
            marks["first"] = clock()
    else:
        sent = b"".join([f.data for f in answer.frames])
        n, first, drain = len(answer.frames), None, False
        relay = Relay(transport, conn, True, clock)
        try:
            if transport is None or transport.is_closing():
                raise ConnectionResetError("client gone before the first byte")
            transport.writelines((head, *chunk(sent)) if sent else (head,))
            first = clock() if sent else None
            try:
                await relay.run(live)
            finally:
                n += relay.n
                first = first if first is not None else relay.first
            async for frame in live:  # where the pipe stopped: the body's end or its break
                if transport.is_closing():
                    raise ConnectionResetError("client gone mid-stream")
                transport.writelines(chunk(frame.data))
                n += 1
                first = first if first is not None else clock()
            drain = True
        except ConnectionError:
            log.debug("client disconnected during %s", path)
        finally:
            live.close(drain)
            if first is not None:
                marks["first"], marks["chunks"] = first, n
        if drain and live.cut is not None:
            await carry_out(transport, live.cut, t0, clock)  # the upstream's connection dropped mid-body
        elif drain and transport is not None and not transport.is_closing():
            transport.write(b"0\r\n\r\n")
    done = later if isinstance(later, Done) else road.done_of(later)
    rt.observers.finished(done, answer.status, answer.stream, marks, t0, clock())
    rt.writer.poll()
    if not rt.settings.server.quiet:
        logged(path, answer.status, started, done)


def logged(path: str, status: int, started: float, done: Done) -> None:
    """The access log's line for a call the lane answered (``started``: its reading, on ``time.perf_counter()``),
    from what answered it, as the road's middleware writes it from the answer's headers."""
    cassette = cassette_label(done.answered_by)
    match = match_of(done.answered_by) if cassette is not None else None
    log_access("POST", path, status, started, source_label(done), match, cassette)


async def _raise(exc: Exception) -> NoReturn:
    raise exc
