"""What a recording's fields may hold, checked once when a cassette is read.

A recording that passes can be served as it is: a final status (200–599), header names that are HTTP tokens
and values without line breaks, times that are finite and at most an hour, stream events of
``[at_us, bytes]``. One that does not is a :class:`BadRecording`, which the loader skips with its reason
instead of serving it as a 500, a broken status line, a dropped connection or a wait without end.

The checks run over whole columns at a time (``zip``, ``set(map(type, …))``, one regex over the joined
names): a large cassette holds hundreds of thousands of headers and events, and load time is a target.
"""

from __future__ import annotations

import math
import re
from typing import Any

MAX_OFFSET_US = 3_600_000_000
"""The longest time into a recording (1 hour): beyond it a replay would hold its client for good."""

STATUSES = range(200, 600)
"""Final statuses: 1xx are not answers, and anything outside 100–599 cannot be sent."""

_TOKENS = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]*")
"""Header names joined: RFC 9110 token characters only (so no CR, LF, colon or space)."""
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
"""What a header value may not hold: control characters other than tab (CR and LF would split the header)."""


class BadRecording(ValueError):
    """A recording whose fields are out of type or range; the message says which field and why."""


def text(value: Any, what: str) -> str:
    if type(value) is not str:
        raise BadRecording(f"{what} is {_kind(value)}, not a string")
    return value


def optional_text(value: Any, what: str) -> str | None:
    return None if value is None else text(value, what)


def labels(value: Any, what: str) -> dict[str, str]:
    """A map of short strings (a recording's provenance); missing is empty."""
    if value is None:
        return {}
    if type(value) is not dict or (set(map(type, value)) | set(map(type, value.values()))) - {str}:
        raise BadRecording(f"{what} is not a map of strings")
    return value


def data(value: Any, what: str) -> bytes:
    if type(value) is not bytes:
        raise BadRecording(f"{what} is {_kind(value)}, not bytes")
    return value


def status(value: Any) -> int:
    if type(value) is not int or value not in STATUSES:
        raise BadRecording(f"status {value!r} is not a final HTTP status (200-599)")
    return value


def offset_us(value: Any, what: str) -> int:
    """A time into the recording: a finite number of microseconds from 0 to :data:`MAX_OFFSET_US`."""
    if value is None:
        return 0
    if type(value) not in (int, float) or not (math.isfinite(value) and 0 <= value <= MAX_OFFSET_US):
        raise BadRecording(f"{what} {value!r} is not a time from 0 to {MAX_OFFSET_US} µs (1 hour)")
    return int(value)


def pairs(items: Any, what: str, headers: bool = False) -> tuple[tuple[str, str], ...]:
    """``[[name, value], …]`` as tuples of strings; ``headers`` also checks they can be sent as HTTP headers."""
    if not items:
        return ()
    try:
        found: tuple[tuple[str, str], ...] = tuple(map(tuple, items))
        names, values = zip(*found, strict=True)
    except (TypeError, ValueError):
        raise BadRecording(f"{what} is not a list of [name, value] pairs") from None
    if set(map(type, names)) | set(map(type, values)) != {str}:
        raise BadRecording(f"{what} holds a name or value that is not a string")
    if headers:
        if not all(names) or not _TOKENS.fullmatch("".join(names)):
            bad = next(n for n in names if not n or not _TOKENS.fullmatch(n))
            raise BadRecording(f"{what} has an invalid header name {bad!r}")
        if _CONTROL.search("".join(values)):
            bad = next(v for v in values if _CONTROL.search(v))
            raise BadRecording(f"{what} has a header value with a line break or control character {bad[:40]!r}")
    return found


def events(items: Any) -> tuple[tuple[int, bytes], ...]:
    """A stream's ``[[at_us, bytes], …]`` as tuples, every time in range."""
    if type(items) not in (list, tuple):
        raise BadRecording(f"events is {_kind(items)}, not a list")
    if not items:
        return ()
    try:
        # Fails on an event of another length or one that is not a list; a string of two characters gets through
        # as two columns of strings, which the type checks below refuse.
        ats, datas = zip(*items, strict=True)
    except (TypeError, ValueError):
        raise BadRecording("events is not a list of [at_us, bytes] pairs") from None
    if set(map(type, datas)) != {bytes}:
        raise BadRecording("an event's data is not bytes")
    types = set(map(type, ats))
    if types != {int} and (types - {int, float} or not all(map(math.isfinite, ats))):
        raise BadRecording("an event's at_us is not a finite number")
    if min(ats) < 0 or max(ats) > MAX_OFFSET_US:
        raise BadRecording(f"an event's at_us is not a time from 0 to {MAX_OFFSET_US} µs (1 hour)")
    if types != {int}:
        ats = tuple(map(int, ats))
    return tuple(zip(ats, datas, strict=True))


def _kind(value: Any) -> str:
    return "missing" if value is None else f"a {type(value).__name__}"
