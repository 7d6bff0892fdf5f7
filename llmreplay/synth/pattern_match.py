"""``re.search`` for a client's pattern that cannot backtrack catastrophically.

Python's ``re`` backtracks: ``^(a+)+$`` against twenty-odd ``a`` and a ``!`` takes seconds, holding the event
loop. A pattern is looked at once (cached): one whose structure cannot backtrack badly (no repeat holding another
repeat or an alternation, few repeats) goes to ``re``, which is fast; any other runs on a Thompson-NFA simulation
here, linear in the text times the pattern, with a step budget. A risky pattern the simulation cannot model
(back-references, lookarounds, possessive repeats, local flags) is :class:`~llmreplay.synth.budget.OverBudget`.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from typing import Any

from llmreplay.synth.budget import OverBudget

try:  # Python 3.11+ moved the parser; the old name still works there with a warning.
    from re import _parser as _sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_parse as _sre_parse  # type: ignore[no-redef]

MAX_STEPS = 200_000
"""NFA threads advanced for one search of a risky pattern (a few tens of milliseconds)."""
MAX_PROGRAM = 20_000
"""Instructions of one compiled pattern (counted repeats are written out)."""
_MANY_REPEATS = 4
"""Repeats side by side that make a pattern risky: each can take any share of the text (polynomial blow-up)."""

Pred = Callable[[str], bool]
_CATEGORY: dict[str, Pred] = {
    "CATEGORY_DIGIT": str.isdecimal,
    "CATEGORY_SPACE": str.isspace,
    "CATEGORY_WORD": lambda c: c.isalnum() or c == "_",
    "CATEGORY_LINEBREAK": lambda c: c == "\n",
}


class _Unsupported(Exception):
    """The pattern uses something the NFA does not model."""


def search(pattern: str, text: str) -> bool:
    """Whether ``pattern`` matches somewhere in ``text``; a pattern Python cannot compile matches nothing."""
    plan = _plan(pattern)
    if plan is None:
        return False
    if isinstance(plan, re.Pattern):
        return plan.search(text) is not None
    if isinstance(plan, str):
        raise OverBudget(plan)
    return _run(plan, text)


@functools.lru_cache(maxsize=256)
def _plan(pattern: str) -> re.Pattern[str] | _Program | str | None:
    """How to search: ``re`` (safe), a program (risky), a refusal's reason, or None (not a pattern)."""
    try:
        compiled = re.compile(pattern)
        tree = _sre_parse.parse(pattern)
    except (re.error, RecursionError, OverflowError):
        return None
    if not _risky(tree.data, inside_repeat=False) and _count_repeats(tree.data) < _MANY_REPEATS:
        return compiled
    try:
        return _Program(tree.data, tree.state.flags)
    except (_Unsupported, RecursionError):
        return f"the pattern {pattern[:80]!r} can backtrack without bound and cannot be checked safely"


def _children(op: str, arg: Any) -> list[Any]:
    if op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
        return [arg[2]]
    if op == "SUBPATTERN":
        return [arg[-1]]
    if op == "BRANCH":
        return list(arg[1])
    if op in ("ASSERT", "ASSERT_NOT"):
        return [arg[1]]
    if op == "ATOMIC_GROUP":
        return [arg]
    if op == "GROUPREF_EXISTS":
        return [x for x in arg[1:] if x is not None]
    return []


def _risky(items: Any, *, inside_repeat: bool) -> bool:
    for op, arg in items:
        kind = str(op)
        repeats = kind in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT") and arg[1] > 1
        if inside_repeat and (repeats or kind == "BRANCH"):
            return True
        if any(_risky(child, inside_repeat=inside_repeat or repeats) for child in _children(kind, arg)):
            return True
    return False


def _count_repeats(items: Any) -> int:
    here = sum(str(op) in ("MAX_REPEAT", "MIN_REPEAT") and arg[1] > 1 for op, arg in items)
    return here + sum(_count_repeats(child) for op, arg in items for child in _children(str(op), arg))


class _Program:
    """A Pike VM program: ``("char", pred)``, ``("split", a, b)``, ``("jmp", a)``, ``("at", code)``, ``("match",)``."""

    def __init__(self, items: Any, flags: int) -> None:
        self.ignore_case = bool(flags & re.IGNORECASE)
        self.dotall = bool(flags & re.DOTALL)
        self.multiline = bool(flags & re.MULTILINE)
        self.code: list[tuple[Any, ...]] = []
        self._emit(items)
        self.code.append(("match",))

    def _add(self, instr: tuple[Any, ...]) -> int:
        if len(self.code) >= MAX_PROGRAM:
            raise _Unsupported
        self.code.append(instr)
        return len(self.code) - 1

    def _emit(self, items: Any) -> None:
        for op, arg in items:
            kind = str(op)
            if kind in ("LITERAL", "NOT_LITERAL", "ANY", "IN"):
                self._add(("char", self._pred(kind, arg)))
            elif kind == "AT":
                self._add(("at", str(arg)))
            elif kind == "SUBPATTERN":
                if arg[1] or arg[2]:  # local flags, (?i:...)
                    raise _Unsupported
                self._emit(arg[-1])
            elif kind == "BRANCH":
                self._branch(arg[1])
            elif kind in ("MAX_REPEAT", "MIN_REPEAT"):
                self._repeat(*arg)
            else:  # back-references, lookarounds, possessive and atomic groups
                raise _Unsupported

    def _branch(self, alternatives: list[Any]) -> None:
        jumps = []
        for alt in alternatives[:-1]:
            split = self._add(("split", 0, 0))
            self._emit(alt)
            jumps.append(self._add(("jmp", 0)))
            self.code[split] = ("split", split + 1, len(self.code))
        self._emit(alternatives[-1])
        for j in jumps:
            self.code[j] = ("jmp", len(self.code))

    def _repeat(self, low: int, high: int, body: Any) -> None:
        for _ in range(low):
            self._emit(body)
        if high == _sre_parse.MAXREPEAT:
            split = self._add(("split", 0, 0))
            self._emit(body)
            self._add(("jmp", split))
            self.code[split] = ("split", split + 1, len(self.code))
            return
        splits = []
        for _ in range(high - low):
            splits.append(self._add(("split", 0, 0)))
            self._emit(body)
        for s in splits:
            self.code[s] = ("split", s + 1, len(self.code))

    def _pred(self, kind: str, arg: Any) -> Pred:
        if kind == "ANY":
            return (lambda c: True) if self.dotall else (lambda c: c != "\n")
        if kind in ("LITERAL", "NOT_LITERAL"):
            test = self._fold(lambda c: ord(c) == arg)
            return test if kind == "LITERAL" else (lambda c: not test(c))
        negate = bool(arg) and str(arg[0][0]) == "NEGATE"
        parts = [self._class_item(str(op), a) for op, a in (arg[1:] if negate else arg)]
        test = self._fold(lambda c: any(p(c) for p in parts))
        return (lambda c: not test(c)) if negate else test

    def _class_item(self, kind: str, arg: Any) -> Pred:
        if kind == "LITERAL":
            return lambda c: ord(c) == arg
        if kind == "RANGE":
            return lambda c: arg[0] <= ord(c) <= arg[1]
        if kind == "CATEGORY":
            name = str(arg).replace("UNI_", "")
            base = _CATEGORY[name.replace("NOT_", "")]
            return (lambda c: not base(c)) if "NOT_" in name else base
        raise _Unsupported

    def _fold(self, test: Pred) -> Pred:
        if not self.ignore_case:
            return test
        return lambda c: test(c) or test(c.lower()) or test(c.upper())

    def at(self, code: str, text: str, i: int) -> bool:
        n = len(text)
        word = _CATEGORY["CATEGORY_WORD"]
        if code == "AT_BEGINNING":
            return i == 0 or (self.multiline and text[i - 1] == "\n")
        if code == "AT_BEGINNING_STRING":
            return i == 0
        if code == "AT_END":
            return i == n or (i == n - 1 and text[i] == "\n") or (self.multiline and text[i] == "\n")
        if code == "AT_END_STRING":
            return i == n
        before = i > 0 and word(text[i - 1])
        after = i < n and word(text[i])
        return (before != after) == (code == "AT_BOUNDARY")


def _run(prog: _Program, text: str) -> bool:
    """Breadth-first over the program's states, one text position at a time; each state at most once a position."""
    code = prog.code
    steps = MAX_STEPS
    current: list[int] = []
    for i in range(len(text) + 1):
        # A match may start anywhere (search), so the start state joins at every position.
        seen: set[int] = set()
        ready: list[int] = []
        stack = [*reversed(current), 0]
        while stack:
            pc = stack.pop()
            if pc in seen:
                continue
            seen.add(pc)
            steps -= 1
            if steps < 0:
                raise OverBudget(f"checking a value against the pattern took more than {MAX_STEPS} steps")
            instr = code[pc]
            op = instr[0]
            if op == "match":
                return True
            if op == "char":
                ready.append(pc)
            elif op == "jmp":
                stack.append(instr[1])
            elif op == "split":
                stack.extend((instr[2], instr[1]))
            elif prog.at(instr[1], text, i):
                stack.append(pc + 1)
        if i == len(text):
            break
        ch = text[i]
        current = [pc + 1 for pc in ready if code[pc][1](ch)]
    return False
