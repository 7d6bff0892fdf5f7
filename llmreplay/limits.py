"""Limits on what one client may send: header and request-line sizes, and how slowly a body may arrive.

Body size is capped by the application (``client_max_size``, answered 413 in the provider's envelope).
Header and request-line sizes are aiohttp's parser limits: they are set on the :class:`web.AppRunner`
(:func:`handler_args`), and a request over them is answered 400/431 by aiohttp before any handler
runs. A body that trickles in (a slow-loris upload) would otherwise hold a handler forever:
:func:`read_body`, called by the application's middleware before any handler, reads it under a deadline
and answers 408 in the provider's envelope.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Call
from llmreplay.providers import registry
from llmreplay.providers.base import Codec, RenderOptions


@dataclass(frozen=True)
class Limits:
    """Per-request limits beyond the body size."""

    max_line_size: int = 16 * 1024
    """Longest request line (method, path and query string), in bytes."""
    max_field_size: int = 16 * 1024
    """Longest single header (name and value), in bytes."""
    max_headers: int = 128
    """Most header lines in one request."""
    body_timeout_s: float = 30.0
    """Seconds a whole request body may take to arrive."""


def handler_args(limits: Limits) -> dict[str, Any]:
    """Keyword arguments for ``web.AppRunner(app, **handler_args(limits))`` (passed on to each connection)."""
    return {
        "max_line_size": limits.max_line_size,
        "max_field_size": limits.max_field_size,
        "max_headers": limits.max_headers,
    }


async def read_body(request: web.Request, timeout_s: float) -> web.Response | None:
    """Read the request body within ``timeout_s`` seconds; None when it came, else the 408 (or 413) to send.

    The body read here is cached by aiohttp, so the handler's own ``request.read()`` returns it at once.
    """
    try:
        if request.content.is_eof():
            await request.read()  # all here already: no timer to arm and cancel
        else:
            async with asyncio.timeout(timeout_s):
                await request.read()
    except TimeoutError:
        return _error(
            request,
            ApiError(
                ErrorKind.TIMEOUT,
                f"The request body did not arrive within {timeout_s:g} seconds.",
                status=408,
            ),
        )
    except web.HTTPRequestEntityTooLarge:
        return _error(request, ApiError(ErrorKind.REQUEST_TOO_LARGE, "Request body is too large."))
    return None


class _RedactParserErrors(logging.Filter):
    """aiohttp logs a request it cannot parse with a traceback quoting the first 100 bytes of the offending
    line: for an oversized ``Authorization`` header, that is the API key. Keep the kind and status only."""

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, HttpProcessingError):
            record.msg = "refused a malformed or oversized request: %s (%s)"
            record.args = (type(exc).__name__, exc.code)
            record.exc_info = None
            record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


_REDACT = _RedactParserErrors()


def redact_parser_errors() -> None:
    """Install the redacting filter on aiohttp's server logger (once)."""
    logger = logging.getLogger("aiohttp.server")
    if _REDACT not in logger.filters:
        logger.addFilter(_REDACT)


def _codec(request: web.Request, call: Call) -> Codec:
    """The codec of the route ``request`` matched (``/v1/messages`` is Anthropic's even without its headers)."""
    resource = request.match_info.route.resource
    if resource is not None:
        global _BY_ROUTE
        if _BY_ROUTE is None:
            _BY_ROUTE = {(r.method, r.path): r.codec for r in registry.routes()}
        found = _BY_ROUTE.get((request.method, resource.canonical))
        if found is not None:
            return found
    return registry.guess_codec(call)


_BY_ROUTE: dict[tuple[str, str], Codec] | None = None


def _error(request: web.Request, err: ApiError) -> web.Response:
    """``err`` in the envelope the caller's API uses; the connection is closed (its body is unread)."""
    if request.path.startswith("/api/"):
        from llmreplay.control import admin

        resp = admin.error_response(err)
    else:
        call = Call(
            method=request.method,
            path=request.path,
            params=dict(request.match_info),
            query=dict(request.query),
            headers={k.lower(): v for k, v in request.headers.items()},
            body=b"",
        )
        answer = _codec(request, call).render_error(err, RenderOptions())
        resp = web.Response(status=answer.status, headers=dict(answer.headers), body=answer.body)
    resp.force_close()
    return resp
