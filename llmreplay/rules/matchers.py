"""A rule's ``match``, compiled once into a list of predicates over an exchange.

Each matcher is a plain function ``(view) -> bool``; the cheap ones (API, endpoint, path, headers) are asked
first, so most requests another rule is for are turned away before any message is looked at. Matchers that
look into the neutral request fail on a call no codec reads (embeddings, token counts, unknown paths).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from llmreplay.exchange import Exchange
from llmreplay.model import Request, ToolResult
from llmreplay.rules.spec import MatchSpec, Range, ToolResultMatch
from llmreplay.rules.values import json_test, text_test


class View:
    """What matchers (and templates) read of one exchange, each piece worked out at most once."""

    __slots__ = ("_body", "ex")

    def __init__(self, ex: Exchange) -> None:
        self.ex = ex
        self._body: Any = None

    @property
    def request(self) -> Request | None:
        return self.ex.request

    @property
    def api(self) -> str:
        req = self.ex.request
        return req.api if req is not None else self.ex.route.codec.api

    @property
    def provider(self) -> str:
        # API names are the provider's, then what of it: openai-chat, anthropic-messages, gemini.
        return self.api.split("-", 1)[0]

    @property
    def body(self) -> Any:
        """The request body as JSON (the neutral request's, else parsed from the call; None when not JSON)."""
        if self._body is None:
            req = self.ex.request
            if req is not None:
                self._body = req.body
            else:
                try:
                    self._body = self.ex.call.json()
                except ValueError:
                    self._body = {}
        return self._body

    @property
    def model(self) -> str | None:
        req = self.ex.request
        if req is not None:
            return req.model
        model = self.ex.call.params.get("model")
        if model is None and isinstance(self.body, Mapping):
            model = self.body.get("model")
        return model if isinstance(model, str) else None

    def last_user(self) -> str | None:
        req = self.ex.request
        if req is None:
            return None
        return next((m.text for m in reversed(req.messages) if m.role == "user"), None)

    def results(self) -> list[ToolResult]:
        """The tool results of the current turn: those of the tool turns since the last other turn."""
        req = self.ex.request
        out: list[ToolResult] = []
        if req is None:
            return out
        for m in reversed(req.messages):
            if m.role != "tool":
                break
            out[:0] = m.results
        return out

    def turn(self) -> int:
        req = self.ex.request
        return sum(1 for m in req.messages if m.role == "assistant") if req is not None else 0


Test = Callable[[View], bool]


class Matcher:
    """Every test of one ``match``, cheapest first; an empty one matches every call."""

    def __init__(self, spec: MatchSpec) -> None:
        self.spec = spec
        self.needs_request = spec.needs_request()
        self.tests: tuple[Test, ...] = tuple(_compile(spec))

    def __call__(self, view: View) -> bool:
        if self.needs_request and view.request is None:
            return False
        return all(test(view) for test in self.tests)


def _compile(spec: MatchSpec) -> list[Test]:
    tests: list[Test] = []
    if spec.api is not None:
        apis = frozenset(spec.api)
        tests.append(lambda v: v.api in apis)
    if spec.provider is not None:
        providers = frozenset(spec.provider)
        tests.append(lambda v: v.provider in providers)
    if spec.endpoint is not None:
        endpoints = frozenset(spec.endpoint)
        tests.append(lambda v: v.ex.route.endpoint in endpoints)
    if spec.path is not None:
        path = text_test(spec.path)
        tests.append(lambda v: path(v.ex.call.path))
    for name, m in (spec.headers or {}).items():
        tests.append(_header(name, text_test(m)))
    if spec.model is not None:
        model = text_test(spec.model)
        tests.append(lambda v: (got := v.model) is not None and model(got))
    if spec.tools is not None:
        wanted = frozenset(spec.tools)
        tests.append(lambda v: v.request is not None and wanted <= {t.name for t in v.request.tools})
    if spec.turn is not None:
        tests.append(_turn(spec.turn))
    if spec.tool_result is not None:
        tests.append(_tool_result(spec.tool_result))
    if spec.body is not None:
        body = json_test(spec.body)
        tests.append(lambda v: body(v.body))
    if spec.system is not None:
        system = text_test(spec.system)
        tests.append(lambda v: v.request is not None and system(v.request.system))
    if spec.last_user is not None:
        last = text_test(spec.last_user)
        tests.append(lambda v: (text := v.last_user()) is not None and last(text))
    if spec.any_message is not None:
        anyone = text_test(spec.any_message)
        tests.append(
            lambda v: (
                v.request is not None and (anyone(v.request.system) or any(anyone(m.text) for m in v.request.messages))
            )
        )
    return tests


def _header(name: str, test: Callable[[str], bool]) -> Test:
    return lambda v: (got := v.ex.call.headers.get(name)) is not None and test(got)


def _turn(turn: int | Range) -> Test:
    low, high = (turn, turn) if isinstance(turn, int) else (turn.min, turn.max)
    return lambda v: (low is None or v.turn() >= low) and (high is None or v.turn() <= high)


def _tool_result(m: bool | ToolResultMatch) -> Test:
    if isinstance(m, bool):
        return lambda v: bool(v.results()) is m
    name = m.name
    content = text_test(m) if m.has_test else None

    def test(v: View) -> bool:
        return any((name is None or r.name == name) and (content is None or content(r.content)) for r in v.results())

    return test
