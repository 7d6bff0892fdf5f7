"""How much JSON structure one request body may hold, checked on its bytes before anything is parsed.

Parsing (orjson, one call in C) and validating (pydantic, one call in Rust) a body take time in proportion to the
values it holds, and each is a single call that no other thread interrupts: a 30 MB body of a million tiny
messages held the process for seconds, off the event loop or on it. So a body may hold at most
:data:`MAX_VALUES` values and :data:`MAX_CONTAINERS` objects and arrays (real requests hold a few thousand), and
over either it is the provider's 400 at once. The counts are of the JSON's own commas, braces and brackets, not of
those inside strings: a long prompt of source code or prose is not refused for what its text holds.
"""

from __future__ import annotations

import re

from llmreplay.errors import ApiError, ErrorKind

MAX_VALUES = 200_000
"""Elements of arrays and members of objects in one request body, all levels together (counted as the commas and
openings that separate and hold them). orjson builds 200,000 small values in ~20-40 ms."""
MAX_CONTAINERS = 50_000
"""Objects and arrays in one request body (messages, content blocks, schema nodes together): validating 50,000
messages is one call of ~40-80 ms on a busy 2-core machine. Anthropic allows 100,000 messages; no conversation
sent to a test double comes near either."""

MAX_DEPTH = 128
"""The deepest nesting of objects and arrays a request body may have. The code that walks a request (schema
checks and fakes, content) recurses, a few frames a level; bodies near Python's recursion limit made it, or
the standard parser, run out of stack with the garbage collector free to run finalizers at that depth,
which then fail. Measured on orjson's parse, which does not recurse in Python; no real request comes near
(strict structured outputs allow 10 levels)."""

_STRUCTURE_OR_QUOTE = re.compile(rb'[,{\[\]}"]')
_STRING_BODY = re.compile(rb'[^"\\]*+(?:\\.[^"\\]*+)*+', re.DOTALL)
"""A string's content up to its closing quote (or the window's end): characters and escapes."""
_QUOTE, _COMMA = ord('"'), ord(",")
_OPENINGS = frozenset(b"{[")
_WINDOW = 1 << 18
"""Bytes one call into the regex engine searches at most (~1-5 ms), so that none lasts long on a big body."""


def check(body: bytes) -> None:
    """Raise the provider's 400 when ``body`` holds more JSON values or containers than the caps (or, found on
    the way, nests deeper than :data:`MAX_DEPTH`).

    The first test is three byte counts in C; only a body over a cap by those (which count what strings hold
    too) is read token by token, skipping strings whole, and that read stops as soon as a cap is passed."""
    if len(body) <= MAX_CONTAINERS:
        return  # too short to hold more of either
    opens = body.count(b"{") + body.count(b"[")
    if opens <= MAX_CONTAINERS and opens + body.count(b",") <= MAX_VALUES:
        return
    values = containers = depth = pos = 0
    size = len(body)
    while pos < size:
        m = _STRUCTURE_OR_QUOTE.search(body, pos, pos + _WINDOW)
        if m is None:
            pos += _WINDOW
            continue
        at = m.start()
        byte = body[at]
        pos = at + 1
        if byte == _QUOTE:
            pos = _string_end(body, at) + 1
        elif byte == _COMMA:
            values += 1
        elif byte in _OPENINGS:
            values += 1
            containers += 1
            depth += 1
            if depth > MAX_DEPTH:
                raise too_deep()
            if containers > MAX_CONTAINERS:
                raise _too_many(f"more than {MAX_CONTAINERS:,} JSON objects and arrays")
        else:
            depth -= 1
        if values > MAX_VALUES:
            raise _too_many(f"more than {MAX_VALUES:,} JSON values")


def _string_end(body: bytes, start: int) -> int:
    """Where the string opened at ``start`` ends (its closing quote; the body's end when it has none), read in C a
    window at a time: a string of escaped quotes is not a Python loop per quote."""
    pos, size = start + 1, len(body)
    while True:
        m = _STRING_BODY.match(body, pos, pos + _WINDOW)
        end = m.end() if m is not None else pos  # it always matches, if only the empty string
        if end >= size - 1:
            return end if end < size and body[end] == _QUOTE else size  # unterminated: the parser says so
        if body[end] == _QUOTE:
            return end
        pos = end  # the window's end, or an escape it cut in two: the next window reads on from there


def too_deep() -> ApiError:
    return ApiError(ErrorKind.INVALID_REQUEST, f"The request body is nested too deeply: more than {MAX_DEPTH} levels.")


def _too_many(what: str) -> ApiError:
    return ApiError(
        ErrorKind.INVALID_REQUEST,
        f"The request body holds {what}; llmreplay refuses a body this large in structure (see docs/reliability.md).",
    )


def search(pattern: re.Pattern[bytes], body: bytes, longest: int, window: int = _WINDOW) -> re.Match[bytes] | None:
    """``pattern.search(body)``, one window of ``window`` bytes at a time (overlapping by ``longest - 1``, the
    longest match less one byte), so that no single call into the regex engine lasts long on a big body."""
    if len(body) <= window:
        return pattern.search(body)
    step = window - (longest - 1)
    for start in range(0, len(body), step):
        m = pattern.search(body, start, start + window)
        if m is not None:
            return m
    return None
