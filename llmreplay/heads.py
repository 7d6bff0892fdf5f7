"""The status line and headers of an answer written whole, as aiohttp would write them: for the express lane
(:mod:`llmreplay.lane`), which writes them itself, and for the answers it keeps (:mod:`llmreplay.kept`,
:mod:`llmreplay.drawn`)."""

from __future__ import annotations

import functools
import http
from typing import TYPE_CHECKING

from aiohttp.helpers import rfc822_formatted_time
from aiohttp.http import SERVER_SOFTWARE

from llmreplay.labels import labels

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange
    from llmreplay.model import Answer
    from llmreplay.observers import Done


def whole(answer: Answer, due_by: float = 0.0) -> bool:
    """Whether ``answer`` is one body due at once (the writer's own reading of an answer's times), or by ``due_by``
    (seconds from its start: an upstream's body is due when it came in)."""
    return (
        not answer.stream
        and answer.live is None
        and answer.cut is None
        and not answer.headers_at
        and not (answer.frames and (answer.frames[0].at or 0.0) > due_by)
        and answer.status >= 200
        and answer.status not in (204, 304)
    )


def head_of(answer: Answer, later: Done | Exchange, closing: bool = False) -> bytes | None:
    """The status line and headers aiohttp would write for ``answer``: its headers, then ours, then the length and,
    where the answer has none of its own (a replayed one keeps the provider's date and server), a type, the date
    and the server, in that order, and ``Connection: close`` when ``closing``; None where aiohttp would frame it
    otherwise or refuse a header."""
    body = answer.body
    return _head(answer, later, f"Content-Length: {len(body)}\r\n", bool(body), closing)


def stream_head_of(answer: Answer, later: Done | Exchange, closing: bool = False) -> bytes | None:
    """The status line and headers aiohttp writes for ``answer`` sent as it comes, in chunks (its stream response
    on HTTP/1.1, with no length: always a type); None as for :func:`head_of`, and for a status that has no body."""
    if answer.status < 200 or answer.status in (204, 304):
        return None
    return _head(answer, later, "Transfer-Encoding: chunked\r\n", True, closing)


def _head(answer: Answer, later: Done | Exchange, framing: str, typed: bool, closing: bool) -> bytes | None:
    pairs = answer.headers + labels(later)
    lines = "".join([f"{name}: {value}\r\n" for name, value in pairs])
    n = len(pairs)
    if lines.count("\r") != n or lines.count("\n") != n:
        return None  # aiohttp refuses a header that would split the head
    names = "\n" + lines.lower()  # each name follows a line break, and no value holds one
    if "\ncontent-length:" in names or "\ntransfer-encoding:" in names or "\nconnection:" in names:
        return None
    status = answer.status
    parts = [f"HTTP/1.1 {status} {_reason(status)}\r\n", lines, framing]
    if typed and "\ncontent-type:" not in names:
        parts.append("Content-Type: application/octet-stream\r\n")
    if "\ndate:" not in names:
        parts.append(f"Date: {rfc822_formatted_time()}\r\n")
    if "\nserver:" not in names:
        parts.append(f"Server: {SERVER_SOFTWARE}\r\n")
    parts.append("Connection: close\r\n\r\n" if closing else "\r\n")
    try:
        return "".join(parts).encode()
    except UnicodeEncodeError:
        return None


@functools.cache
def _reason(status: int) -> str:
    try:
        return http.HTTPStatus(status).phrase
    except ValueError:
        return ""
