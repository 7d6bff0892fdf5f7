"""Tests sharing one server, each seeing only its own exchanges.

A request names its test with ``x-llmreplay-test-id``. An application that builds its own SDK clients from
environment variables cannot send a header, so the test id may also lead the path: a base URL of
``http://127.0.0.1:57593/_test/<id>/v1`` reaches ``/v1/...`` as that test's. The prefix is taken off and the
request routed again, so every route (and the catch-all of replay and forwarding) serves it unchanged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import unquote

from aiohttp import web
from multidict import CIMultiDict
from yarl import URL

from llmreplay.shaping.directives import TEST_ID

PREFIX = "/_test/"
MAX_ID = 200
"""A test id longer than this is refused: it is a key of the journal, the rules and the scenario cursors."""

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


async def unwrap(request: web.Request) -> tuple[web.Request, Handler]:
    """``request`` (a path under :data:`PREFIX`) without its ``/_test/<id>`` prefix and with the test id as its
    header, routed again: the request and the handler of its route. Called before the body is read (aiohttp
    clones only an unread request)."""
    raw = request.rel_url.raw_path
    end = raw.find("/", len(PREFIX))
    test_id = unquote(raw[len(PREFIX) : end]) if end > 0 else ""
    if not test_id or len(test_id) > MAX_ID:
        raise web.HTTPNotFound()
    url = URL.build(path=raw[end:], query_string=request.rel_url.raw_query_string, encoded=True)
    headers = CIMultiDict(request.headers)
    headers[TEST_ID] = test_id
    inner = request.clone(rel_url=url, headers=headers)
    match = await request.app.router.resolve(inner)
    match.add_app(request.app)
    # aiohttp routes a request before any middleware runs and offers no public way to route a clone: the
    # clone takes the match its dispatcher would have given it.
    inner._match_info = match  # type: ignore[attr-defined]
    return inner, match.handler
