"""The looser match on conversation content: off by default; when on, what it accepts and what it does not."""

from __future__ import annotations

import json
from typing import Any

from llmreplay.cassettes.keys import MatchConfig
from llmreplay.cassettes.matching import Index
from llmreplay.cassettes.model import Interaction, RecordedRequest, RecordedResponse
from llmreplay.model import Call

CHAT = "/v1/chat/completions"


def chat(messages: list[Any], **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o", "messages": messages, **extra}


def recorded(body: dict[str, Any], path: str = CHAT, api: str = "openai-chat") -> Interaction:
    req = RecordedRequest("POST", path, (), (), json.dumps(body).encode())
    return Interaction(req, RecordedResponse(200, (), b"{}", None, 0, 0), api, "chat-completions")


def call(body: dict[str, Any], path: str = CHAT) -> Call:
    return Call("POST", path, {}, {}, {}, json.dumps(body).encode())


HISTORY = [
    {"role": "system", "content": "You are terse."},
    {"role": "user", "content": "weather?"},
    {"role": "assistant", "tool_calls": [{"id": "call_1a2b3c4d5e", "type": "function", "function": {"name": "w"}}]},
    {"role": "tool", "tool_call_id": "call_1a2b3c4d5e", "content": "sunny"},
]


def test_off_by_default() -> None:
    idx = Index([("c", recorded(chat(HISTORY)))])
    assert idx.fallback(call(chat(HISTORY, temperature=0.3))) is None


def test_same_last_user_message_tool_results_and_model_answer() -> None:
    it = recorded(chat(HISTORY))
    idx = Index([("c", it)], MatchConfig(fallback=True))
    looser = chat([{"role": "system", "content": "You are verbose now."}, *HISTORY[1:]], temperature=0.3)
    assert idx.find(call(looser)) is None  # not an exact match
    assert idx.fallback(call(looser)) == ("c", it)
    assert idx.fallback(call(chat([*HISTORY[:3], {**HISTORY[3], "content": "rain"}]))) is None
    assert idx.fallback(call({**chat(HISTORY), "model": "gpt-4o-mini"})) is None
    assert idx.fallback(call(chat([*HISTORY[:1], {"role": "user", "content": "news?"}, *HISTORY[2:]]))) is None


def test_anthropic_tool_results_and_gemini_contents() -> None:
    msgs = [{"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_01AbCdEf23", "content": "ok"}]}]
    ant = recorded({"model": "claude", "max_tokens": 10, "messages": msgs}, "/v1/messages", "anthropic-messages")
    path = "/v1beta/models/gemini-2.5-flash:generateContent"
    gem = recorded({"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}, path, "gemini")
    idx = Index([("a", ant), ("g", gem)], MatchConfig(fallback=True))
    assert idx.fallback(call({"model": "claude", "max_tokens": 99, "messages": msgs}, "/v1/messages")) == ("a", ant)
    stream = path.replace(":generateContent", ":streamGenerateContent")
    asked = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "generationConfig": {"temperature": 1}}
    assert idx.fallback(call(asked, stream)) == ("g", gem)


def test_follows_cassettes_taken_in_and_let_go() -> None:
    cfg = MatchConfig(fallback=True)
    every, one = Index((), cfg), Index([("t1", recorded(chat(HISTORY)))], cfg)
    every.extend(one)
    assert every.fallback(call(chat(HISTORY, temperature=1))) is not None
    every.discard("t1")
    assert every.fallback(call(chat(HISTORY, temperature=1))) is None
