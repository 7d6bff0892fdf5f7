"""Limits on what one client may send: header and request-line sizes, and how slowly a body may arrive.

Body size is capped by the application (``client_max_size``, answered 413 in the provider's envelope).
Header and request-line sizes are aiohttp's parser limits: they are set on the :class:`web.AppRunner`
(:func:`handler_args`), and a request over them is answered 400/431 by aiohttp before any handler
runs. A body that trickles in (a slow-loris upload) would otherwise hold a handler forever:
:func:`read_body`, called by the application's middleware before any handler, reads it under a deadline,
and the middleware answers 408 in the provider's envelope.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.http_exceptions import HttpProcessingError

from llmreplay.errors import ApiError, ErrorKind


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


async def read_body(request: web.Request, timeout_s: float) -> ApiError | None:
    """Read the request body within ``timeout_s`` seconds; None when it came, else the error to answer (408 or
    413), on a connection that is then to be closed, its body unread.

    The body read here is cached by aiohttp, so the handler's own ``request.read()`` returns it at once.
    """
    try:
        if request.content.is_eof():
            await request.read()  # all here already: no timer to arm and cancel
        else:
            async with asyncio.timeout(timeout_s):
                await request.read()
    except TimeoutError:
        return ApiError(ErrorKind.TIMEOUT, f"The request body did not arrive within {timeout_s:g} seconds.", status=408)
    except web.HTTPRequestEntityTooLarge:
        return ApiError(ErrorKind.REQUEST_TOO_LARGE, "Request body is too large.")
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
