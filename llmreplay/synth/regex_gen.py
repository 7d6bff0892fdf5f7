"""Strings that match a JSON Schema ``pattern``.

The pattern is parsed with the standard library's own regex parser (so every escape and class
Python accepts is understood) and the tree is walked to emit one matching string: literals,
classes, ``\\d \\w \\s``, repeats, groups, alternation and back-references. A repeat's count is drawn
within its bounds, so a fixed-length pattern (``^[a-f0-9]{40}$``) comes out right the first time, and no
string is built past ``budget.MAX_STRING``. Lookarounds and anchors are not modelled while emitting; instead
every candidate is checked with ``pattern_match.search`` (``re.search`` that cannot backtrack without bound)
and retried with other draws, padding or repeat counts.
"""

from __future__ import annotations

import random
import re
import string
from typing import Any

from llmreplay.synth.budget import MAX_STRING, OverBudget
from llmreplay.synth.pattern_match import search

try:  # Python 3.11+ moved the parser; the old name still works there with a warning.
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_parse as _sre_parse  # type: ignore[no-redef]

_WORD = string.ascii_letters + string.digits + "_"
_SPACE = " "
_PRINTABLE = string.ascii_letters + string.digits + " -_.,:;!?@#/+=()'"
_FILLER = string.ascii_lowercase
_CATEGORIES: dict[str, str] = {
    "CATEGORY_DIGIT": string.digits,
    "CATEGORY_NOT_DIGIT": string.ascii_letters + " -_.",
    "CATEGORY_SPACE": _SPACE,
    "CATEGORY_NOT_SPACE": _WORD + "-.",
    "CATEGORY_WORD": _WORD,
    "CATEGORY_NOT_WORD": " -.,:;!?@#/",
    "CATEGORY_LINEBREAK": "\n",
    "CATEGORY_NOT_LINEBREAK": _PRINTABLE,
}
_ATTEMPTS = 60


def generate(pattern: str, rng: random.Random, *, min_length: int = 0, max_length: int | None = None) -> str | None:
    """A string ``re.search(pattern, s)`` accepts with a length in bounds, or None if none was found;
    :class:`~llmreplay.synth.budget.OverBudget` when every string it matches is longer than ``MAX_STRING``."""
    try:
        re.compile(pattern)
        tree = _sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return None
    hi = max_length if max_length is not None else MAX_STRING
    least = _least(tree)
    if least > MAX_STRING:
        raise OverBudget(f"the pattern needs strings longer than {MAX_STRING} characters")
    if least > hi:
        return None

    def fits(s: str) -> bool:
        return min_length <= len(s) <= hi and search(pattern, s)

    for attempt in range(_ATTEMPTS):
        # Start with short repeats; widen them when the length floor is not met.
        stretch = (0, 1, 2, 3, 5, 8, 13, 21)[min(attempt // 4, 7)]
        if attempt % 4 == 3 and min_length > 0:
            stretch = max(stretch, min_length)
        try:
            s = _emit(tree, rng, stretch, {}, [MAX_STRING])
        except _Impossible:
            continue
        if fits(s):
            return s
        if len(s) < min_length:
            pad = "".join(rng.choice(_FILLER) for _ in range(min_length - len(s)))
            for candidate in (s + pad, pad + s, pad[: len(pad) // 2] + s + pad[len(pad) // 2 :]):
                if fits(candidate):
                    return candidate
    return None


def _least(items: Any) -> int:
    """The shortest string ``items`` can match (back-references count as empty), found without building one."""
    total = 0
    for op, arg in items:
        kind = str(op)
        if kind in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
            total += 1
        elif kind in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            total += arg[0] * _least(arg[2]) if arg[0] else 0
        elif kind == "SUBPATTERN":
            total += _least(arg[-1])
        elif kind == "ATOMIC_GROUP":
            total += _least(arg)
        elif kind == "BRANCH":
            total += min(_least(alt) for alt in arg[1])
    return total


class _Impossible(Exception):
    """A class that no character in the pools satisfies; the draw is retried."""


def _emit(items: Any, rng: random.Random, stretch: int, groups: dict[int, str], room: list[int]) -> str:
    """One string for ``items``; ``room`` is the characters left to the whole string, shared by the calls."""
    out: list[str] = []
    for op, arg in items:
        if room[0] < 0:
            raise OverBudget(f"the pattern needs strings longer than {MAX_STRING} characters")
        kind = str(op)
        if kind == "LITERAL":
            out.append(chr(arg))
            room[0] -= 1
        elif kind == "NOT_LITERAL":
            out.append(_pick([c for c in _PRINTABLE if ord(c) != arg], rng))
            room[0] -= 1
        elif kind == "ANY":
            out.append(rng.choice(_FILLER))
            room[0] -= 1
        elif kind == "IN":
            out.append(_char_in(arg, rng))
            room[0] -= 1
        elif kind in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            lo, hi, sub = arg
            top = lo + stretch if hi == _sre_parse.MAXREPEAT else min(hi, lo + max(stretch, 1) * 2)
            out.extend(_emit(sub, rng, stretch, groups, room) for _ in range(rng.randint(lo, max(lo, top))))
        elif kind == "SUBPATTERN":
            gid, sub = arg[0], arg[-1]
            text = _emit(sub, rng, stretch, groups, room)
            if gid is not None:
                groups[gid] = text
            out.append(text)
        elif kind == "ATOMIC_GROUP":
            out.append(_emit(arg, rng, stretch, groups, room))
        elif kind == "BRANCH":
            out.append(_emit(rng.choice(arg[1]), rng, stretch, groups, room))
        elif kind == "GROUPREF":
            out.append(groups.get(arg, ""))
            room[0] -= len(out[-1])
        elif kind == "GROUPREF_EXISTS":
            gid, yes, no = arg
            chosen = yes if gid in groups else no
            out.append(_emit(chosen, rng, stretch, groups, room) if chosen is not None else "")
        # AT (anchors), ASSERT and ASSERT_NOT emit nothing; the final re.search decides.
    return "".join(out)


def _char_in(items: list[tuple[Any, Any]], rng: random.Random) -> str:
    if items and str(items[0][0]) == "NEGATE":
        return _pick([c for c in _PRINTABLE if not _class_has(items[1:], c)], rng)
    op, arg = rng.choice(items)
    kind = str(op)
    if kind == "LITERAL":
        return chr(arg)
    if kind == "RANGE":
        lo, hi = arg
        return chr(rng.randint(lo, hi))
    if kind == "CATEGORY":
        return rng.choice(_CATEGORIES.get(str(arg).replace("UNI_", ""), _WORD))
    raise _Impossible


def _class_has(items: list[tuple[Any, Any]], ch: str) -> bool:
    code = ord(ch)
    for op, arg in items:
        kind = str(op)
        if (kind == "LITERAL" and arg == code) or (kind == "RANGE" and arg[0] <= code <= arg[1]):
            return True
        if kind == "CATEGORY" and _category_has(str(arg).replace("UNI_", ""), ch):
            return True
    return False


def _category_has(category: str, ch: str) -> bool:
    base = category.replace("NOT_", "")
    positive = {
        "CATEGORY_DIGIT": ch.isdigit(),
        "CATEGORY_SPACE": ch.isspace(),
        "CATEGORY_WORD": ch.isalnum() or ch == "_",
        "CATEGORY_LINEBREAK": ch == "\n",
    }.get(base, False)
    return positive != ("NOT_" in category)


def _pick(pool: list[str], rng: random.Random) -> str:
    if not pool:
        raise _Impossible
    return rng.choice(pool)
