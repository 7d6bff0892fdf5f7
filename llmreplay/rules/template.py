"""Answers that echo the request: ``{{last_user}}``, ``{{tool_result.get_weather.temp}}`` and the like.

A placeholder names a value of the request and nothing else: no expressions, no filters, no code. Texts are
cut into literal pieces and placeholders once, when the rules are loaded (an unknown name is a load error);
an answer fills them from the request it answers (a value the request lacks is empty; an object is JSON).

===========================  =================================================================
``{{last_user}}``            the latest user message
``{{system}}``               the system prompt
``{{model}}``                the model asked for
``{{turn}}``                 assistant turns already in the conversation
``{{tool_result}}``          the content of the current turn's latest tool result
``{{tool_result.NAME}}``     the latest result of tool NAME (``.a.b`` after it: a value in its JSON)
``{{header.NAME}}``          a request header
``{{body.PATH}}``            a value of the request body at a dotted path
===========================  =================================================================
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from llmreplay.rules.paths import at_path, found

PLACEHOLDER = re.compile(r"\{\{\s*([^{}]*?)\s*\}\}")
_NAME = re.compile(r"[A-Za-z_][\w-]*(?:\.[\w-]+)*")
ROOTS = ("last_user", "system", "model", "turn", "tool_result", "header", "body")
_NEEDS_MORE = ("header", "body")

Lookup = Callable[[Any], Any]
"""Reads one placeholder's value from a :class:`~llmreplay.rules.matchers.View`."""


def check(text: str) -> None:
    """Raise ValueError naming the first placeholder in ``text`` that names nothing."""
    for m in PLACEHOLDER.finditer(text):
        _lookup(m.group(1))


def _lookup(name: str) -> Lookup:
    if not _NAME.fullmatch(name):
        raise ValueError(f"{{{{{name}}}}} is not a placeholder; known: {', '.join(ROOTS)}")
    root, _, rest = name.partition(".")
    if root not in ROOTS or (root in _NEEDS_MORE and not rest) or (rest and root not in (*_NEEDS_MORE, "tool_result")):
        raise ValueError(
            f"unknown placeholder {{{{{name}}}}}; known: last_user, system, model, turn, tool_result[.NAME[.PATH]], "
            "header.NAME, body.PATH"
        )
    if root == "tool_result":
        tool, _, path = rest.partition(".")
        return lambda v: _result(v, tool or None, path or None)
    if root == "header":
        key = rest.lower()
        return lambda v: v.ex.call.headers.get(key)
    if root == "body":
        return lambda v: _at(v.body, rest)
    if root == "last_user":
        return lambda v: v.last_user()
    if root == "turn":
        return lambda v: v.turn()
    if root == "model":
        return lambda v: v.model
    return lambda v: v.request.system if v.request is not None else None


def _at(doc: Any, path: str) -> Any:
    value = at_path(doc, path)
    return value if found(value) else None


def _result(view: Any, tool: str | None, path: str | None) -> Any:
    latest = next((r for r in reversed(view.results()) if tool is None or r.name == tool), None)
    if latest is None:
        return None
    if path is None:
        return latest.content
    try:
        return _at(json.loads(latest.content), path)
    except ValueError:
        return None


def _shown(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


class Template:
    """A text cut into literal pieces and placeholders; :meth:`fill` joins them for one request."""

    __slots__ = ("pieces", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        pieces: list[str | Lookup] = []
        last = 0
        for m in PLACEHOLDER.finditer(text):
            pieces.append(text[last : m.start()])
            pieces.append(_lookup(m.group(1)))
            last = m.end()
        pieces.append(text[last:])
        self.pieces = tuple(p for p in pieces if p != "")

    @property
    def literal(self) -> bool:
        return all(isinstance(p, str) for p in self.pieces)

    def fill(self, view: Any) -> str:
        return "".join(p if isinstance(p, str) else _shown(p(view)) for p in self.pieces)


def value_template(value: Any) -> Callable[[Any], Any]:
    """A JSON value whose strings may hold placeholders (tool arguments, structured output), filled per
    request; a value with none is returned as it is."""
    if isinstance(value, str):
        t = Template(value)
        return (lambda v: value) if t.literal else t.fill
    if isinstance(value, dict):
        parts = {k: value_template(x) for k, x in value.items()}
        return lambda v: {k: f(v) for k, f in parts.items()}
    if isinstance(value, list):
        items = [value_template(x) for x in value]
        return lambda v: [f(v) for f in items]
    return lambda v: value
