"""Where a key hides from a plain search of the bytes, and how the scrubber still finds it.

Each view decodes a value the way a reader of it would (percent and JSON ``\\u`` escapes, UTF-16, base64),
searches the decoded form with the scrubber's own regex, and replaces what it finds in the original, so that
everything else keeps its exact bytes. The views are only tried when their mark is there (a ``%`` or ``\\u``,
a NUL byte, a long base64 run), so an ordinary body costs a few substring tests.
"""

from __future__ import annotations

import base64
import binascii
import re
from bisect import bisect_right
from typing import AnyStr

_ESCAPE = re.compile(rb"%[0-9A-Fa-f]{2}|\\u00[0-7][0-9A-Fa-f]")
"""An escaped ASCII character: keys are ASCII, so other escapes cannot be part of one."""
_BASE64 = re.compile(rb"(?<![A-Za-z0-9+/_-])[A-Za-z0-9+/_-]{24,}={0,2}")
"""A run long enough to carry the shortest key (19 bytes) once decoded, standard or URL-safe, tried only where a
run starts (from every position of a long text, the search cost twice as much)."""


def unescaped(data: bytes, regex: re.Pattern[bytes], placeholder: bytes) -> bytes:
    """``data`` with every match that shows once ``%XX`` and ``\\u00XX`` escapes are read replaced whole."""
    if b"%" not in data and b"\\u" not in data:
        return data
    out = bytearray()
    marks: list[tuple[int, int, int]] = []
    """(decoded offset, original start, original end) of each escape, in order."""
    pos = 0
    for m in _ESCAPE.finditer(data):
        out += data[pos : m.start()]
        marks.append((len(out), m.start(), m.end()))
        token = m.group()
        out.append(int(token[1:] if token[0] == 0x25 else token[2:], 16))
        pos = m.end()
    if not marks:
        return data
    out += data[pos:]
    found = [(m.start(), m.end()) for m in regex.finditer(bytes(out))]
    if not found:
        return data
    decoded_at = [d for d, _, _ in marks]

    def start_of(i: int) -> int:
        k = bisect_right(decoded_at, i) - 1
        if k < 0:
            return i
        d, s, e = marks[k]
        return s if d == i else e + (i - d - 1)

    def end_of(i: int) -> int:  # i is exclusive: where the character before it ends
        k = bisect_right(decoded_at, i - 1) - 1
        if k >= 0 and decoded_at[k] == i - 1:
            return marks[k][2]
        return start_of(i - 1) + 1

    return _replaced(data, [(start_of(s), end_of(e)) for s, e in found], placeholder)


def utf16(data: bytes, regex: re.Pattern[str], placeholder: str) -> bytes:
    """``data`` with the matches of ``regex`` in it read as UTF-16 (either order, either alignment) replaced."""
    if b"\x00" not in data:
        return data
    for enc in ("utf-16-le", "utf-16-be"):
        for shift in (0, 1):
            end = shift + (len(data) - shift) // 2 * 2
            # surrogatepass reads every pair of bytes and writes it back the same, so only the matches change.
            text = data[shift:end].decode(enc, "surrogatepass")
            found = [(m.start(), m.end()) for m in regex.finditer(text)]
            if found:
                new = _replaced(text, found, placeholder).encode(enc, "surrogatepass")
                data = data[:shift] + new + data[end:]
    return data


def in_base64(
    data: bytes, regex: re.Pattern[bytes], placeholder: bytes, starts: tuple[bytes, ...] | None = None
) -> bytes:
    """``data`` with each base64 run whose decoded bytes hold a match encoded again with the match replaced
    (so an inline file stays a file, without the key). ``starts``: what any match begins with, when known; the
    regex over megabytes of decoded binary is slow (~80 ms a MB), a substring test is not."""
    changed: list[tuple[int, int, bytes]] = []
    for m in _BASE64.finditer(data):
        run = m.group()
        urlsafe = b"-" in run or b"_" in run
        if urlsafe and (b"+" in run or b"/" in run):
            continue  # both alphabets at once: no base64
        bare = run.rstrip(b"=")
        try:
            raw = (base64.urlsafe_b64decode if urlsafe else base64.b64decode)(bare + b"=" * (-len(bare) % 4))
        except (binascii.Error, ValueError):
            continue
        if starts is not None and not any(k in raw for k in starts):
            continue
        found = [(k.start(), k.end()) for k in regex.finditer(raw)]
        if not found:
            continue
        again = (base64.urlsafe_b64encode if urlsafe else base64.b64encode)(_replaced(raw, found, placeholder))
        # Padded as the original was: a run whose length is a multiple of 4 may simply not have needed any.
        padded = run.endswith(b"=") or len(run) % 4 == 0
        changed.append((m.start(), m.end(), again if padded else again.rstrip(b"=")))
    if not changed:
        return data
    out, pos = bytearray(), 0
    for s, e, new in changed:
        out += data[pos:s] + new
        pos = e
    return bytes(out + data[pos:])


def matches(value: AnyStr, regex: re.Pattern[AnyStr], starts: tuple[AnyStr, ...] | None) -> list[tuple[int, int]]:
    """The spans of ``regex`` in ``value``. With ``starts`` (what every match begins with), the regex is only
    tried where one of them is: its lookbehinds keep the engine from searching for the literal itself, which
    cost ~80 ns a byte over a large body, where finding the starts costs next to nothing."""
    if starts is None:
        return [(m.start(), m.end()) for m in regex.finditer(value)]
    at: list[int] = []
    for k in starts:
        i = value.find(k)
        while i >= 0:
            at.append(i)
            i = value.find(k, i + 1)
    spans: list[tuple[int, int]] = []
    for i in sorted(at):
        if spans and i < spans[-1][1]:
            continue
        m = regex.match(value, i)
        if m is not None:
            spans.append((m.start(), m.end()))
    return spans


def replaced(
    value: AnyStr, regex: re.Pattern[AnyStr], placeholder: AnyStr, starts: tuple[AnyStr, ...] | None
) -> AnyStr:
    """``value`` with every match of ``regex`` replaced (as ``regex.sub``, found as :func:`matches` finds)."""
    found = matches(value, regex, starts)
    return _replaced(value, found, placeholder) if found else value


def _replaced(value: AnyStr, spans: list[tuple[int, int]], placeholder: AnyStr) -> AnyStr:
    parts: list[AnyStr] = []
    pos = 0
    for s, e in spans:
        if s < pos:  # overlapping matches (two patterns): the first one's placeholder covers both
            pos = max(pos, e)
            continue
        parts += [value[pos:s], placeholder]
        pos = e
    parts.append(value[pos:])
    return value[:0].join(parts)
