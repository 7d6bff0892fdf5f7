"""An entry as JSON: its fields, the neutral views, and no secret anywhere in it."""

from __future__ import annotations

import json

from llmreplay.cassettes.scrub import DEFAULT_SECRET_HEADERS
from llmreplay.journal import Journal
from llmreplay.journal.view import REDACTED, as_json, iso
from tests.journal.entries import FAKE_KEY, T0, call, entry, reply

SUMMARY = {
    "id", "time", "test_id", "endpoint", "method", "path", "model", "status", "stream", "source", "answered_by",
    "outcome", "ttfb_ms", "duration_ms", "chunks", "input_tokens", "output_tokens", "cost_usd", "done",
}  # fmt: skip


def test_the_fields_of_an_entry() -> None:
    d = as_json(entry(1, test_id="t1"))
    assert set(d) == SUMMARY | {"request", "neutral", "reply", "catalogue"}
    assert d["time"] == "2025-01-01T00:00:01.000Z" and iso(T0) == "2025-01-01T00:00:00.000Z"
    assert d["test_id"] == "t1" and d["answered_by"] == {"synthetic": True}
    assert d["request"]["body"]["messages"][1]["content"] == "What is the weather in Paris?"
    n = d["neutral"]
    assert n["api"] == "openai-chat" and n["system"] == "Be brief."
    assert n["messages"][-1] == {
        "role": "tool",
        "text": '{"temp": 21}',
        "results": [{"call_id": "call_1", "name": "get_weather", "content": '{"temp": 21}'}],
    }
    assert n["tools"][0]["name"] == "get_weather" and n["tools"][0]["schema"]["type"] == "object"
    assert n["tool_choice"] == {"mode": "auto", "names": []} and n["output"]["kind"] == "text"
    assert d["reply"] == {
        "text": "It is 21 °C in Paris.",
        "tool_calls": [],
        "finish": "stop",
        "usage": {"input_tokens": 12, "output_tokens": 7, "reasoning_tokens": 0},
    }
    json.dumps(d)  # all of it is JSON


def test_tool_calls_show_their_arguments_parsed() -> None:
    d = as_json(entry(1, reply=reply(tool=True)))
    assert d["reply"]["tool_calls"] == [{"id": "c1", "name": "get_weather", "arguments": {"city": "Paris"}}]
    assert d["reply"]["finish"] == "tool_calls"


def test_an_unreadable_request_and_an_early_answer() -> None:
    e = entry(1, call=call(b"not json \xff"), source=None)
    e.request, e.reply = None, None
    d = as_json(e)
    assert d["neutral"] is None and d["reply"] is None and d["source"] is None
    assert d["request"]["body"] == "not json \ufffd"


def test_a_fake_key_in_every_header_and_the_query_is_nowhere_in_the_output() -> None:
    secret = {name: FAKE_KEY for name in DEFAULT_SECRET_HEADERS}
    secret["authorization"] = f"Bearer {FAKE_KEY}"
    others = {
        "x-custom-auth": f"Bearer {FAKE_KEY}",
        "x-anything": FAKE_KEY,
        "x-goog-api-key": "AIza" + "A" * 35,
        "x-llmreplay-test-id": "t1",
    }
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": f"my key is {FAKE_KEY}"}]}
    j = Journal(10, 1 << 20)
    e = entry(1, call=call(body, {**secret, **others}, key=FAKE_KEY, alt="sse"))
    j.add(e)
    text = json.dumps(j.find()) + json.dumps(j.get(e.id))
    assert FAKE_KEY not in text and "AIza" + "A" * 35 not in text
    shown = j.get(e.id)["request"]  # type: ignore[index]
    for name in DEFAULT_SECRET_HEADERS:
        assert shown["headers"][name] == REDACTED, name
    assert shown["headers"]["x-llmreplay-test-id"] == "t1"
    assert shown["query"] == {"key": REDACTED, "alt": "sse"}
    # The journal shows; it does not change what the road holds.
    assert e.call.headers["x-api-key"] == FAKE_KEY
