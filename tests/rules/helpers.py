"""Exchanges for rule tests: a provider call parsed by its own codec, with no server."""

from __future__ import annotations

import json
import random
from typing import Any

from llmreplay.codec import RenderOptions
from llmreplay.configmodels import LatencyConfig
from llmreplay.exchange import Exchange
from llmreplay.model import Call
from llmreplay.providers.registry import match_route
from llmreplay.rules import RuleBook, parse_rules

PATHS = {
    "openai-chat": "/v1/chat/completions",
    "openai-responses": "/v1/responses",
    "anthropic-messages": "/v1/messages",
    "gemini": "/v1beta/models/gemini-2.0-flash:generateContent",
}


def chat(*messages: dict[str, Any], **body: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": list(messages), **body}


def user(text: str) -> dict[str, Any]:
    return {"role": "user", "content": text}


def exchange(
    path: str,
    body: Any = None,
    headers: dict[str, str] | None = None,
    test_id: str | None = None,
    method: str = "POST",
    seed: int = 1,
) -> Exchange:
    found = match_route(method, path)
    assert found is not None, path
    route, params = found
    raw = json.dumps(body).encode() if body is not None else b""
    call = Call(method, path, params, {}, {k.lower(): v for k, v in (headers or {}).items()}, raw)
    ex = Exchange(call, route, 0.0, random.Random(seed), LatencyConfig(), RenderOptions(chunk_size=5))
    if route.op is None:
        ex.request = route.codec.parse_request(call)
    ex.test_id = test_id
    return ex


def book(*rules: dict[str, Any], cassettes_dir: str | None = None) -> RuleBook:
    return RuleBook(parse_rules({"rules": list(rules)}, "test", cassettes_dir), cassettes_dir=cassettes_dir)


def answered(b: RuleBook, ex: Exchange) -> str | None:
    """The name of the rule that answers ``ex`` (counting the match), or None."""
    hit = b.match(ex)
    if hit is None:
        return None
    hit.take()
    return hit.rule
