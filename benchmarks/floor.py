"""llmreplay's server with every provider endpoint answering the baseline's fixed body: the floor under figure 1.

Everything llmreplay puts around a request through aiohttp stays (its listener and connection class, the one
middleware, the router with every provider route, the runtime); only the work of answering is taken out, and
the express lane (``llmreplay/lane.py``), which would answer before any handler: each handler reads the body
and returns ``baseline.CHAT``. Its requests/s is the most any answer built through aiohttp's web layer could
reach on this machine, so figure 1 can say how much of the gap to the bare handler is the answering and how
much the application around it.

    python -m benchmarks.floor --port 8002 [llmreplay serve options]
"""

from __future__ import annotations

import sys

from aiohttp import web

from benchmarks.baseline import CHAT
from llmreplay import app as llm_app
from llmreplay.providers.base import Route
from llmreplay.road import Handler


def _fixed(route: Route | None) -> Handler:
    async def handle(request: web.Request) -> web.Response:
        await request.read()
        return web.Response(body=CHAT, content_type="application/json")

    return handle


def main(argv: list[str] | None = None) -> None:
    # A diagnostic, not a product path: the application is built exactly as `serve` builds it, with this
    # handler factory in place of llmreplay's.
    llm_app.handler = _fixed
    llm_app.express = False  # the lane would answer before the fixed handler is asked
    from llmreplay.cli import main as cli_main

    sys.argv = ["llmreplay", "serve", *(sys.argv[1:] if argv is None else argv)]
    cli_main()


if __name__ == "__main__":
    main()
