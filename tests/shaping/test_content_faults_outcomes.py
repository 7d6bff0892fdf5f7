"""Content faults are outcomes like any other: listed by GET /api/failure-modes, drawn from the configured
error mix, taken as scenario steps, and a rule's outcome; a reply made for one is timed as a reply, and the
journal names the fault."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import anthropic
import httpx
import openai
import pytest
from google.genai import types

from llmreplay.server import BackgroundServer
from llmreplay.shaping.faultkinds.registry import CONTENT_KINDS
from llmreplay.shaping.outcomes import parse
from tests.schedule_spy import spy_on_answers
from tests.shaping.content_kit import chat_parse, claude, gemini

pytestmark = pytest.mark.sdk
CONTENT = [
    "refusal",
    "content-filter",
    "content-filter-prompt",
    "context-length",
    "bad-tool-args",
    "schema-violation",
    "unknown-tool",
    "empty-reply",
    "cut-json",
]


def test_failure_modes_lists_each_content_fault(server: BackgroundServer) -> None:
    modes = {m["name"]: m for m in httpx.get(server.url + "/api/failure-modes").json()}
    assert set(CONTENT) == CONTENT_KINDS
    for name in CONTENT:
        assert modes[name]["when"] == "in the reply" and modes[name]["example"] == name
        assert parse(name).kind == name
    with pytest.raises(ValueError, match="takes no @position"):
        parse("refusal@3")


def test_error_mix_scenario_and_rule_spell_content_faults(make_server: Callable[..., BackgroundServer]) -> None:
    srv = make_server()
    mix = {"failures": {"error_rate": 1.0, "kinds": {"cut-json": 1}}}
    assert httpx.patch(srv.url + "/api/config/global", json=mix).status_code == 200
    with pytest.raises(openai.LengthFinishReasonError):
        chat_parse(srv, "", False)
    assert httpx.patch(srv.url + "/api/config/global", json={"failures": {"error_rate": 0.0}}).status_code == 200
    steps = {"x-llmreplay-scenario": "refusal,ok", "x-llmreplay-scenario-key": uuid.uuid4().hex}
    m = anthropic.Anthropic(base_url=srv.url, api_key="k", max_retries=0, default_headers=steps).messages
    ask = {"model": "claude-sonnet-4-5", "max_tokens": 4096, "messages": [{"role": "user", "content": "Hi"}]}
    assert m.create(**ask).stop_reason == "refusal"
    assert m.create(**ask).stop_reason == "end_turn"
    rule = {"name": "filtered", "match": {}, "reply": {"outcome": "content-filter-prompt"}}
    assert httpx.put(srv.url + "/api/rules", json={"rules": [rule]}).status_code == 200
    got = gemini(srv, "", False)[0]
    assert got.prompt_feedback.block_reason == types.BlockedReason.SAFETY
    entries = httpx.get(srv.url + "/api/requests").json()
    listed = entries["requests"] if isinstance(entries, dict) else entries
    assert [e["endpoint"] for e in listed if "content-filter-prompt" in str(e)] == ["gemini"]


def test_a_content_fault_reply_is_timed_as_a_reply(make_server: Callable[..., BackgroundServer], monkeypatch) -> None:
    """Its body is due at the time to first token, not at the short error delay of a refusal; an error it
    answers with is a refusal, due at once."""
    srv = make_server(latency={"initial_delay_ms": 400, "delay_ms": 0, "jitter_ms": 0, "error_delay_ms": 5})
    seen = spy_on_answers(monkeypatch)
    assert claude(srv, "refusal", False).stop_reason == "refusal"
    with pytest.raises(anthropic.BadRequestError):
        claude(srv, "context-length", False)
    assert [a.frames[0].at for a in seen] == [0.4, 0.005]
