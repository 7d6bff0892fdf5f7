"""A background server with :mod:`llmreplay.limits` applied, as the CLI would run it once wired in."""

from __future__ import annotations

from aiohttp import web

from llmreplay.app import create_app
from llmreplay.config import Settings
from llmreplay.limits import Limits, handler_args
from llmreplay.server import BackgroundServer


class LimitedServer(BackgroundServer):
    """:class:`BackgroundServer` whose runner and app carry ``limits``."""

    def __init__(self, settings: Settings, limits: Limits) -> None:
        server = settings.server.model_copy(update={"body_timeout_s": limits.body_timeout_s})
        super().__init__(settings.model_copy(update={"server": server}))
        self.limits = limits

    async def _start(self) -> None:
        self.app = create_app(self.settings)  # the body deadline comes from settings.server.body_timeout_s
        self._runner = web.AppRunner(self.app, access_log=None, **handler_args(self.limits))
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[union-attr]
        self.port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
