"""The admin API's cassette usage report, ``GET /api/cassette-usage``: which recordings the run has played and
which requests no recording matched, as ``llmreplay cassettes stale --usage`` reads it
(:mod:`llmreplay.cassettes.usage`)."""

from __future__ import annotations

from aiohttp import web

from llmreplay.control import adminio


async def get_usage(request: web.Request) -> web.Response:
    usage = adminio.runtime(request).observers.usage
    if usage is None:
        msg = "this server has no cassettes: start it with --cassettes DIR to count which recordings are used"
        return adminio.json_response({"message": msg}, 409)
    return adminio.json_response(usage.report())


ROUTES: adminio.Routes = [
    ("GET", "/api/cassette-usage", get_usage, "Recordings played and requests no recording matched, so far."),
]
