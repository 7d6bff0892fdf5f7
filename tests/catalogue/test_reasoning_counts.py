"""How many tokens a reasoning model spends unseen: by effort, by Gemini budget or level, never for a model that
does not reason or a request that turns it off (where the model allows), and the same for the same request."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from llmreplay.model import Call, Request
from llmreplay.providers import anthropic_request, gemini_request, openai_chat_request, openai_responses_request
from llmreplay.synth.reasoning import EFFORT_TOKENS, hidden_tokens, shows_item

_HI = {"role": "user", "content": "hi"}
_PARSE = {
    "openai-chat": lambda b: openai_chat_request.parse_chat(_call({"model": "m", "messages": [_HI], **b})),
    "openai-responses": lambda b: openai_responses_request.parse_request(_call({"model": "m", "input": "hi", **b})),
    "gemini": lambda b: gemini_request.parse_generate(
        _call({"contents": [{"role": "user", "parts": [{"text": "hi"}]}], **b}, {"model": "m"})
    ),
    "anthropic-messages": lambda b: anthropic_request.parse_messages(
        _call({"model": "m", "max_tokens": 10, "messages": [_HI], **b})
    ),
}


def _call(body: dict[str, Any], params: dict[str, str] | None = None) -> Call:
    return Call("POST", "/x", params=params or {}, body=orjson.dumps(body))


def req(api: str, body: dict[str, Any] | None = None, thinking: bool = False) -> Request:
    """The request each codec reads from ``body`` (``thinking``: Responses asks to see a summary)."""
    extra = {"reasoning": {"summary": "auto"}} if thinking else {}
    return _PARSE[api]({**(body or {}), **extra})


@pytest.mark.parametrize(
    ("api", "body", "reasoning", "expected"),
    [
        ("openai-chat", {}, "always", EFFORT_TOKENS["medium"]),
        ("openai-chat", {"reasoning_effort": "low"}, "always", EFFORT_TOKENS["low"]),
        ("openai-chat", {"reasoning_effort": "none"}, "always", EFFORT_TOKENS["minimal"]),
        ("openai-chat", {"reasoning_effort": "none"}, "on-request", 0),
        ("openai-chat", {}, "on-request", 0),
        ("openai-chat", {"reasoning_effort": "high"}, "none", 0),
        ("openai-responses", {"reasoning": {"effort": "high"}}, "always", EFFORT_TOKENS["high"]),
        ("gemini", {"generationConfig": {"thinkingConfig": {"thinkingBudget": 0}}}, "default", 0),
        ("gemini", {"generationConfig": {"thinkingConfig": {"thinkingBudget": 50}}}, "default", 50),
        ("gemini", {"generationConfig": {"thinkingConfig": {"thinkingBudget": -1}}}, "on-request", 192),
        ("gemini", {"generation_config": {"thinking_config": {"thinking_level": "HIGH"}}}, "always", 640),
        ("gemini", {}, "default", EFFORT_TOKENS["medium"]),
        ("anthropic-messages", {"thinking": {"type": "enabled", "budget_tokens": 2000}}, "on-request", 0),
    ],
)
def test_unseen_reasoning(api: str, body: dict[str, Any], reasoning: str, expected: int) -> None:
    assert hidden_tokens(req(api, body), reasoning, 0) == expected  # type: ignore[arg-type]


def test_a_longer_prompt_thinks_longer_within_a_bound() -> None:
    r = req("openai-chat")
    assert hidden_tokens(r, "always", 1600) == EFFORT_TOKENS["medium"] + 100
    assert hidden_tokens(r, "always", 10**7) == EFFORT_TOKENS["medium"] + 256
    assert hidden_tokens(r, "always", 1600) == hidden_tokens(r, "always", 1600)


def test_only_responses_list_an_item_they_were_not_asked_to_show() -> None:
    assert shows_item(req("openai-responses"), 10)
    assert not shows_item(req("openai-responses", thinking=True), 10)
    assert not shows_item(req("openai-responses"), 0) and not shows_item(req("openai-chat"), 10)
