"""The aiohttp application: every provider route on the one road (:mod:`llmreplay.road`), the admin API, the
dashboard and ``/metrics`` beside it, and the runtime's start and end."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from aiohttp import web

from llmreplay import limits
from llmreplay.arrival import LANE
from llmreplay.cassettes.watch import Watcher
from llmreplay.config import Settings
from llmreplay.control import admin, dashboard
from llmreplay.lane import Lane
from llmreplay.metrics import prometheus
from llmreplay.middleware import front
from llmreplay.providers import registry
from llmreplay.road import handler
from llmreplay.runtime import RUNTIME, Runtime, build_runtime

__all__ = ["LANE", "RUNTIME", "Runtime", "create_app"]

express = True
"""Whether apps are made with an express lane (``benchmarks.floor`` measures the application without one)."""


def create_app(settings: Settings | None = None) -> web.Application:
    """The application for ``settings`` (the embedded defaults when None)."""
    settings = settings or Settings()
    max_body = int(settings.server.max_body_mb * 1024 * 1024)
    app = web.Application(middlewares=[front(settings.server.body_timeout_s)], client_max_size=max_body)
    app[RUNTIME] = build_runtime(settings)
    lane = Lane.of(app[RUNTIME], max_body) if express else None
    if lane is not None:
        app[LANE] = lane
    limits.redact_parser_errors()
    for route in registry.routes():
        app.router.add_route(route.method, route.path, handler(route))
    app.on_startup.append(_start_state)
    app.on_cleanup.append(_close_state)
    app.cleanup_ctx.append(_lateness_to_metrics)
    admin.add_routes(app)
    dashboard.add_routes(app)
    prometheus.add_routes(app)
    app.router.add_get("/health", _health)
    if app[RUNTIME].deck is not None:
        # Paths no codec knows (/v1/files, /v1/responses/{id} …) are replayed or forwarded byte for byte.
        app.router.add_route("*", "/{tail:.*}", handler(None))
        app.on_cleanup.append(_close_deck)
        if settings.cassettes.watch:
            app.cleanup_ctx.append(_watch_cassettes)
        if settings.cassettes.usage_report:
            app.on_cleanup.append(_write_usage)
    return app


async def _start_state(app: web.Application) -> None:
    rt = app[RUNTIME]
    await rt.state.start(rt.live)


async def _lateness_to_metrics(app: web.Application) -> AsyncIterator[None]:
    """Once a second, the scheduler's lateness counts go into the metrics (a scrape takes them too), so that
    under ``--workers`` every worker's count is in the shared files whichever worker answers the scrape."""
    rt = app[RUNTIME]

    async def every_second() -> None:
        while True:
            await asyncio.sleep(1.0)
            rt.metrics.frame_lateness(*rt.writer.take_lateness())

    task = asyncio.ensure_future(every_second())
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _watch_cassettes(app: web.Application) -> AsyncIterator[None]:
    """``--watch``: the cassette files are polled off the data path while the app runs."""
    deck = app[RUNTIME].deck
    assert deck is not None
    task = asyncio.ensure_future(Watcher(deck.catalog, deck.folder, deck.recording_into).run())
    yield
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)


async def _close_state(app: web.Application) -> None:
    await app[RUNTIME].state.close()


async def _close_deck(app: web.Application) -> None:
    deck = app[RUNTIME].deck
    if deck is not None:
        await deck.close()


async def _write_usage(app: web.Application) -> None:
    rt = app[RUNTIME]
    if rt.observers.usage is not None and rt.settings.cassettes.usage_report:
        rt.observers.usage.write(rt.settings.cassettes.usage_report)


async def _health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})
