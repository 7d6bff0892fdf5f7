"""When each request's bytes arrived: the start of its exchange.

aiohttp starts a handler once the loop gets round to it; under a burst of requests that can be
milliseconds after the bytes came in, and every deadline counted from the handler's start would carry
that delay. The server's connections therefore note the time of their latest read, and an exchange
starts then (the writer's clock). Servers built elsewhere (aiohttp's test servers) do not note it, and
their exchanges start when the handler does.
"""

from __future__ import annotations

from aiohttp import web
from aiohttp.web_protocol import RequestHandler

from llmreplay.shaping.writer import clock


class _StampedHandler(RequestHandler):
    """aiohttp's connection protocol, noting when it last received bytes."""

    __slots__ = ("arrived",)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.arrived = 0.0

    def data_received(self, data: bytes) -> None:
        self.arrived = clock()
        super().data_received(data)


class _StampingServer(web.Server):
    """Builds :class:`_StampedHandler` connections; everything else is aiohttp's."""

    def __call__(self) -> RequestHandler:
        return _StampedHandler(self, loop=self._loop, **self._kwargs)


def stamp(server: web.Server) -> None:
    """Make ``server``'s new connections note when their requests arrive."""
    if type(server) is web.Server:
        server.__class__ = _StampingServer


def arrived(request: web.BaseRequest) -> float:
    """When ``request`` finished arriving, on the writer's clock; 0.0 when its server does not note it."""
    return getattr(request.protocol, "arrived", 0.0)


def start_of(request: web.BaseRequest) -> float:
    """When the exchange answering ``request`` starts: its arrival, or now where that is not noted."""
    return arrived(request) or clock()
