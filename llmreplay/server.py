"""Running the app: in the foreground for the CLI, or on a background thread for tests."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable

from aiohttp import web

from llmreplay import arrival, limits
from llmreplay.app import create_app
from llmreplay.config import Settings


class BackgroundServer:
    """An llmreplay server on its own thread and event loop, on a free port of 127.0.0.1.

    Usable from synchronous and asynchronous code alike (the official SDKs' sync
    clients block, so the server cannot share the test's loop).
    """

    def __init__(self, settings: Settings | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.settings = settings or Settings()
        self.host = host
        self.port = port
        self.app: web.Application | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._runner: web.AppRunner | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> BackgroundServer:
        self._thread = threading.Thread(target=self._run, name="llmreplay-server", daemon=True)
        self._thread.start()
        self._ready.wait(10)
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._start())
        except BaseException as exc:  # surfaced to the starting thread
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        loop.run_forever()
        loop.run_until_complete(self._runner.cleanup() if self._runner else asyncio.sleep(0))
        loop.close()

    async def _start(self) -> None:
        self.app = create_app(self.settings)
        srv = self.settings.server
        self._runner = web.AppRunner(
            self.app,
            access_log=None,
            keepalive_timeout=srv.keepalive_timeout_s,
            **limits.handler_args(limits.Limits()),
        )
        await self._runner.setup()
        assert self._runner.server is not None
        arrival.stamp(self._runner.server, srv.header_timeout_s, srv.max_connections, self.app.get(arrival.LANE))
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[union-attr]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]

    def call(self, fn: Callable[[], object]) -> None:
        """Run ``fn`` on the server's loop (to change state between requests)."""
        assert self._loop is not None
        self._loop.call_soon_threadsafe(fn)

    def stop(self) -> None:
        if self._loop is not None and self._thread is not None:
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(10)

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
