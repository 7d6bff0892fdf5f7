"""Personal data a cassette keeps out by default: e-mail addresses, phone numbers and card-like numbers.

The patterns run over JSON text (a body as sent, or the canonical text a match key is built from), so a match
may start right after a JSON escape (``\\n`` before an address) but never swallow one: what replaces it leaves
the JSON valid, and the same text gives the same result in both places. They are kept narrow so that what a
model is asked and answers stays readable: a phone number needs separators or a leading ``+``, a card number an
issuer's prefix, so ids, timestamps and token counts are left alone.
"""

from __future__ import annotations

import re
from typing import AnyStr

from llmreplay.cassettes.textmarks import Marks, Span, near

EMAIL = (
    r"(?:(?<=\\[nrt])|(?<![A-Za-z0-9._%+\\-]))"
    r"[A-Za-z0-9][A-Za-z0-9._%+-]*@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}(?![A-Za-z0-9-])"
)
"""``name@example.com``."""
PHONE = (
    r"(?<![\d+])(?:\+?1[ .-])?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\d-])"
    r"|(?<![\d+])\+\d{1,3}(?:[ .-]\d{2,5}){2,4}(?![\d-])"
)
"""``555-123-4567``, ``(555) 123-4567``, ``+1 555 123 4567``, ``+44 20 7946 0958``: separated groups."""
CARD = (
    r"(?<![\d.-])(?:4\d{3}|5[1-5]\d{2}|6(?:011|5\d{2}))([ -]?)\d{4}\1\d{4}\1\d{4}(?![\d.eE-])"
    r"|(?<![\d.-])3[47]\d{2}([ -]?)\d{6}\2\d{5}(?![\d.eE-])"
)
"""Visa, Mastercard, Discover (4 groups of 4) and Amex (4-6-5), plain or grouped by spaces or hyphens; never
the digits of a fraction (``-1.4634492981713265e-05``), which a real recording's log-probabilities are full of."""

PERSONAL: tuple[str, ...] = (EMAIL, PHONE, CARD)
"""What ``personal`` scrubbing replaces (on by default)."""


def personal_spans(
    value: AnyStr, email: re.Pattern[AnyStr] | None, numbers: re.Pattern[AnyStr] | None, marks: Marks | None = None
) -> list[Span]:
    """Where ``value`` holds an address (``email``) or a phone or card number (``numbers``): the regexes run
    only around an ``@`` and around a skeleton every such number has (``000-0000`` or 13 digits in a row)."""
    marks = marks or Marks(value)
    spans: list[Span] = []
    if email is not None and marks.has_literal(b"@"):
        spans += near(value, email, marks.literal(b"@"), 64, 256)
    if numbers is not None and (marks.has_digits(_GROUPS) or marks.has_digits(_RUN)):
        at = sorted({*marks.digits(_GROUPS), *marks.digits(_RUN)})
        spans += near(value, numbers, at, 24, 24)
    return spans


_GROUPS = b"000-0000"
"""What every phone number and grouped card number has (digits as ``0``, separators as ``-``)."""
_RUN = b"0" * 13
"""What an ungrouped card number has."""
