"""Where in a text a number, a date or a UUID may be, found in a few C passes, so a regex runs only there.

Python's regex engine tries a pattern at every position of a text: ~50 ns a byte for the patterns of
:mod:`.redact` and :mod:`.normalise`, 100+ µs for a two-turn conversation of 2 KB, on every replayed request.
Instead the text is translated once (digits to ``0``, separators to ``-``, hex digits to ``h``) and searched
for each pattern's skeleton with ``bytes.find``; the regex then runs in a small window around each hit. A
window that ends inside a match is widened to the end of the text, so what is found is what a search of the
whole text finds.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import AnyStr

_DIGITS = bytes.maketrans(b"0123456789 .-", b"0000000000---")
_HEX = bytes.maketrans(b"0123456789abcdefABCDEF", b"h" * 22)


class Marks:
    """One text's translated views, searched for skeletons; positions are the text's own."""

    def __init__(self, value: str | bytes) -> None:
        if isinstance(value, bytes):
            raw, self._width = value, 1
        elif value.isascii():
            raw, self._width = value.encode("ascii"), 1
        else:
            # Fixed width, so a byte offset divided by four is the character's index.
            raw, self._width = value.encode("utf-32-le", "surrogatepass"), 4
        self._raw = raw
        self._digits: bytes | None = None
        self._hex: bytes | None = None

    def _encode(self, skeleton: bytes) -> bytes:
        return skeleton if self._width == 1 else skeleton.decode("ascii").encode("utf-32-le")

    def _digit_view(self) -> bytes:
        if self._digits is None:
            self._digits = self._raw.translate(_DIGITS)
        return self._digits

    def _hex_view(self) -> bytes:
        if self._hex is None:
            self._hex = self._raw.translate(_HEX)
        return self._hex

    def has_digits(self, skeleton: bytes) -> bool:
        """Whether ``skeleton`` (digits written ``0``, any of space, ``.`` and ``-`` written ``-``) occurs: one
        C search, so callers ask before they build anything."""
        return self._encode(skeleton) in self._digit_view()

    def digits(self, skeleton: bytes) -> Iterator[int]:
        """Where ``skeleton`` occurs (written as for :meth:`has_digits`)."""
        return self._find(self._digit_view(), self._encode(skeleton))

    def has_hex(self, skeleton: bytes) -> bool:
        return self._encode(skeleton) in self._hex_view()

    def hex(self, skeleton: bytes) -> Iterator[int]:
        """Where ``skeleton`` (hex digits written ``h``) occurs."""
        return self._find(self._hex_view(), self._encode(skeleton))

    def has_literal(self, text: bytes) -> bool:
        return self._encode(text) in self._raw

    def literal(self, text: bytes) -> Iterator[int]:
        return self._find(self._raw, self._encode(text))

    def _find(self, view: bytes, skeleton: bytes) -> Iterator[int]:
        w = self._width
        i = view.find(skeleton)
        while i >= 0:
            if i % w == 0:
                yield i // w
            i = view.find(skeleton, i + w)


Span = tuple[int, int]


def near(value: AnyStr, regex: re.Pattern[AnyStr], marks: Iterable[int], before: int, after: int) -> list[Span]:
    """Spans of ``regex`` in windows of ``value`` from ``before`` ahead of each mark to ``after`` past it."""
    spans: list[Span] = []
    done = 0
    size = len(value)
    for m in marks:
        if m < done:
            continue
        lo, hi = max(m - before, done), min(m + after, size)
        for hit in regex.finditer(value, lo, hi):
            if hit.end() == hi < size:  # the window may have cut it short: search on to the end
                hit = regex.search(value, hit.start()) or hit
            spans.append(hit.span())
            done = hit.end()
        # No byte is searched twice, however many marks a text holds (a body of a million "@").
        done = max(done, hi)
    return spans


def anchored(value: AnyStr, regex: re.Pattern[AnyStr], marks: Iterable[int]) -> list[Span]:
    """Spans of ``regex`` matched where a mark is (for patterns that start where their skeleton does)."""
    spans: list[Span] = []
    done = 0
    for m in marks:
        if m >= done:
            hit = regex.match(value, m)
            if hit is not None:
                spans.append(hit.span())
                done = hit.end()
    return spans


def substitute(value: AnyStr, spans: Iterable[tuple[int, int, Callable[[AnyStr], AnyStr]]]) -> AnyStr:
    """``value`` with each span ``(start, end, how)`` replaced by ``how(found)``, in order; a span overlapping
    one before it is skipped."""
    parts: list[AnyStr] = []
    pos = 0
    for s, e, how in sorted(spans, key=lambda t: (t[0], -t[1])):
        if s < pos:
            continue
        parts += [value[pos:s], how(value[s:e])]
        pos = e
    if not parts:
        return value
    parts.append(value[pos:])
    return value[:0].join(parts)
