"""The dashboard: its static page at ``/dashboard/`` and the live feed at ``/ws``.

Each WebSocket client gets a ``hello`` (configuration, failure modes, strategies,
cassettes, a metrics snapshot), then a ``metrics`` snapshot every second and the
new events about every 100 ms; and, for clients written for the original Mock LLM
Server, its messages too (:mod:`llmreplay.control.original_ws`), unless the client
asks for the dashboard's alone (``/ws?feed=dashboard``, as the page does: the
original's are one message per event). A client's sends happen on its own task, from the
event hub's ring (see :mod:`llmreplay.control.events`): a browser that reads
slowly, or not at all, falls behind and skips events; it never slows anything
else. Messages that several clients need are encoded once.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import weakref
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import WSCloseCode, web

from llmreplay import __version__
from llmreplay.control import original, original_ws
from llmreplay.control.live import ENDPOINTS
from llmreplay.runtime import RUNTIME, Runtime

log = logging.getLogger("llmreplay.dashboard")

TICK_S = 0.1
METRICS_EVERY_S = 1.0
DETAILED_EVERY_S = 5.0
"""How often the original's ``detailed_metrics`` message goes out (it is the largest)."""
SEND_TIMEOUT_S = 10.0
"""A client that has not taken a message for this long is disconnected (it will reconnect)."""
BACKLOG_BYTES = 256 * 1024
"""Most bytes a client may leave unsent in the transport; past it, it is dropped. (The transport's 64 KiB
high-water mark makes a send wait first: a client that reads nothing is then dropped after SEND_TIMEOUT_S.)"""
KERNEL_BUFFER = 64 * 1024
"""The socket's send buffer, fixed: left to autotune, the kernel holds up to 4 MiB a client that reads nothing
before any backlog shows in the transport."""


def _bound_kernel_buffer(transport: asyncio.Transport | None) -> None:
    """Fix the socket's send buffer at :data:`KERNEL_BUFFER`."""
    raw = transport.get_extra_info("socket") if transport is not None else None
    if raw is not None:
        with contextlib.suppress(OSError):
            raw.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, KERNEL_BUFFER)


class _TooSlow(Exception):
    """A client's unread backlog passed :data:`BACKLOG_BYTES`."""


async def _send(sock: web.WebSocketResponse, transport: asyncio.Transport | None, text: str) -> None:
    backlog = transport.get_write_buffer_size() if transport is not None else 0
    if backlog > BACKLOG_BYTES:
        raise _TooSlow(backlog)
    await asyncio.wait_for(sock.send_str(text), SEND_TIMEOUT_S)


def static_dir() -> Path:
    """The page's files: shipped inside the package (``llmreplay/dashboard``, a link to the top-level folder)."""
    return Path(str(resources.files("llmreplay") / "dashboard"))


def _runtime(request: web.Request) -> Runtime:
    return request.app[RUNTIME]


def hello(rt: Any) -> dict[str, Any]:
    from llmreplay.control.admin import failure_modes, strategies

    deck = rt.deck
    cassettes = None
    mode = "synthetic"
    if deck is not None:
        mode = {"all": "record", "new_episodes": "replay + record", "none": "replay"}[deck.mode]
        cassettes = {
            "folder": str(deck.folder),
            "loaded": list(deck.names),
            "interactions": deck.interactions,
            "recording_into": deck.target.stem if deck.records else None,
            "upstream": deck.proxy.shown if deck.proxy is not None else None,
        }
    return {
        "type": "hello",
        "version": __version__,
        "mode": mode,
        "config": rt.live.snapshot(),
        "endpoints": list(ENDPOINTS),
        "failure_modes": failure_modes(),
        "strategies": strategies(),
        "cassettes": cassettes,
        "metrics": rt.metrics.snapshot(),
    }


class _Encoded:
    """The last few encoded messages, shared by clients that need the same one."""

    def __init__(self) -> None:
        self._events: dict[tuple[int, int, int], list[str]] = {}
        """Per batch of events: the dashboard's message, then the original's (once a client wanted them)."""
        self._metrics: tuple[int, str] | None = None
        self._detailed: tuple[int, str] | None = None

    def events(
        self, rt: Any, start: int, end: int, skipped: int, events: list[dict[str, Any]], theirs: bool
    ) -> list[str]:
        """The dashboard's ``events`` message, then (``theirs``) the original's messages for the same events,
        each built when a client first needs it."""
        key = (start, end, skipped)
        texts = self._events.get(key)
        if texts is None:
            if len(self._events) > 64:
                self._events.clear()
            texts = [json.dumps({"type": "events", "events": events, "dropped": skipped}, separators=(",", ":"))]
            self._events[key] = texts
        if theirs and len(texts) == 1:
            texts.extend(original_ws.messages(events, rt.live) or [""])
        return [t for t in texts if t] if theirs else texts[:1]

    async def metrics(self, rt: Any, second: int) -> str:
        from llmreplay.control.admin import metrics_snapshot, metrics_view

        if self._metrics is None or self._metrics[0] != second:
            snap = await metrics_snapshot(rt)
            # The dashboard reads ``snapshot``, a client of the original ``data``.
            message = {"type": "metrics", "snapshot": snap, "data": metrics_view(snap)}
            self._metrics = (second, json.dumps(message, separators=(",", ":")))
        return self._metrics[1]

    def detailed(self, rt: Any, period: int) -> str:
        from llmreplay.control.admin import detailed_view

        if self._detailed is None or self._detailed[0] != period:
            self._detailed = (period, original_ws.message("detailed_metrics", detailed_view(rt)))
        return self._detailed[1]


ENCODED = web.AppKey("llmreplay.dashboard.encoded", _Encoded)
SOCKETS = web.AppKey("llmreplay.dashboard.sockets", weakref.WeakSet)


async def _close_all(app: web.Application) -> None:
    """On shutdown: tell every page the server is going away, so it reconnects to the next one."""
    for sock in list(app[SOCKETS]):
        await sock.close(code=WSCloseCode.GOING_AWAY, message=b"server shutdown")


async def ws(request: web.Request) -> web.StreamResponse:
    rt = _runtime(request)
    hub = rt.events
    cap = rt.settings.server.max_ws_clients
    if hub.clients >= cap:
        # Each client's unsent backlog is bounded, but not their number: 1,000 that never read held 618 MiB.
        log.warning("refused a /ws client: %d already connected (server.max_ws_clients)", hub.clients)
        return web.json_response({"error": f"too many /ws clients (at most {cap})"}, status=503)
    # No per-message deflate: its state is ~300 KiB a client, and each message would be compressed once per
    # client, on the loop (1,000 clients took RSS from 123 to 467 MiB and API p99 from 44 to 240 ms).
    sock = web.WebSocketResponse(heartbeat=20, max_msg_size=64 * 1024, compress=False)
    await sock.prepare(request)
    transport = request.transport
    _bound_kernel_buffer(transport)
    loop = asyncio.get_running_loop()
    encoded = request.app[ENCODED]
    hub.clients += 1
    request.app[SOCKETS].add(sock)
    reader = asyncio.create_task(_read_until_closed(sock))
    # Events from the hello on: taken after the sends below, what happened while a slow client drained them
    # (a request its hello prompted, say) was never told it.
    cursor = hub.cursor
    try:
        await _send(sock, transport, json.dumps(hello(rt)))
        theirs = request.query.get("feed") != "dashboard"
        if theirs:
            config = original_ws.message("config", original.config_view(rt.live))
            await _send(sock, transport, config)
        next_metrics = loop.time() + METRICS_EVERY_S
        next_detailed = loop.time() + DETAILED_EVERY_S
        while not sock.closed and not reader.done():
            await asyncio.wait({reader}, timeout=TICK_S)
            if sock.closed or reader.done():
                break
            start = cursor
            events, skipped, cursor = hub.since(cursor)
            if events or skipped:
                for text in encoded.events(rt, start, cursor, skipped, events, theirs):
                    await _send(sock, transport, text)
            now = loop.time()
            if now >= next_metrics:
                next_metrics = max(next_metrics + METRICS_EVERY_S, now)
                await _send(sock, transport, await encoded.metrics(rt, int(now)))
            if theirs and now >= next_detailed:
                next_detailed = max(next_detailed + DETAILED_EVERY_S, now)
                period = int(now // DETAILED_EVERY_S)
                await _send(sock, transport, encoded.detailed(rt, period))
    except (_TooSlow, TimeoutError):
        # Its backlog passed the bound, or one message larger than it waited SEND_TIMEOUT_S on a client that
        # does not read. A close handshake would queue behind what it has not read: the connection is dropped.
        unsent = transport.get_write_buffer_size() if transport is not None else 0
        log.info("dropped a /ws client that is not reading: %d bytes unsent (the bound is %d)", unsent, BACKLOG_BYTES)
        if transport is not None:
            transport.abort()
    except ConnectionError:
        log.debug("dashboard client gone; closing")
        await sock.close(code=WSCloseCode.TRY_AGAIN_LATER, message=b"too slow")
    finally:
        hub.clients -= 1
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader
    return sock


async def _read_until_closed(sock: web.WebSocketResponse) -> None:
    async for _ in sock:
        pass  # the page sends nothing; reading keeps pings answered and notices the close


async def page(request: web.Request) -> web.StreamResponse:
    raise web.HTTPFound("/dashboard/")


async def index(request: web.Request) -> web.FileResponse:
    return web.FileResponse(static_dir() / "index.html", headers={"cache-control": "no-cache"})


def add_routes(app: web.Application) -> None:
    app[ENCODED] = _Encoded()
    app[SOCKETS] = weakref.WeakSet()
    app.on_shutdown.append(_close_all)
    app.router.add_get("/ws", ws)
    app.router.add_get("/dashboard", page)
    app.router.add_get("/dashboard/", index)
    app.router.add_static("/dashboard/", static_dir(), show_index=False, append_version=False)
