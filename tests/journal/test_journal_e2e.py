"""The journal end to end: official SDK calls through the road, then /api/requests shows what they sent, in the
neutral view, without their keys."""

from __future__ import annotations

import json

import httpx2
import pytest

from llmreplay.server import BackgroundServer
from tests.journal.entries import FAKE_KEY

pytestmark = pytest.mark.sdk
openai = pytest.importorskip("openai")
anthropic = pytest.importorskip("anthropic")

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


def journal(server: BackgroundServer, **query: str) -> tuple[str, list[dict]]:
    r = httpx2.get(server.url + "/api/requests", params=query, timeout=10)
    assert r.status_code == 200, r.text
    return r.text, r.json()


def test_an_openai_call_is_journalled_with_its_neutral_view_and_no_key(make_server) -> None:
    srv = make_server()
    client = openai.OpenAI(
        base_url=srv.url + "/v1",
        api_key=FAKE_KEY,
        organization="org-" + FAKE_KEY,
        default_headers={"x-llmreplay-test-id": "weather", "cookie": f"session={FAKE_KEY}"},
    )
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o",
        messages=[
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Weather in Paris?"},
            {
                "role": "assistant",
                "tool_calls": [
                    {"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
                ],
            },
            {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 21}'},
        ],
        tools=[WEATHER],
    )
    answer = raw.parse()
    text, entries = journal(srv, test_id="weather")
    assert FAKE_KEY not in text
    assert len(entries) == 1
    e = entries[0]
    assert e["id"] == raw.headers["x-llmreplay-request-id"]
    assert e["done"] and e["status"] == 200 and e["endpoint"] == "chat-completions" and e["model"] == "gpt-4o"
    assert e["source"] == "synthetic" and e["test_id"] == "weather"
    assert e["request"]["headers"]["authorization"] == "[redacted]"
    assert e["neutral"]["system"] == "Be brief."
    assert e["neutral"]["messages"][-1]["results"] == [
        {"call_id": "call_1", "name": "get_weather", "content": '{"temp": 21}'}
    ]
    assert [t["name"] for t in e["neutral"]["tools"]] == ["get_weather"]
    assert e["reply"]["text"] == answer.choices[0].message.content
    one = httpx2.get(srv.url + f"/api/requests/{e['id']}", timeout=10)
    assert one.status_code == 200 and json.loads(one.text)["id"] == e["id"] and FAKE_KEY not in one.text


def test_two_tests_each_see_their_own_and_a_clear_is_per_test(make_server) -> None:
    srv = make_server()
    for test_id in ("a", "b", "a"):
        c = anthropic.Anthropic(base_url=srv.url, api_key=FAKE_KEY, default_headers={"x-llmreplay-test-id": test_id})
        with c.messages.stream(
            model="claude-sonnet-4-5", max_tokens=64, messages=[{"role": "user", "content": "hi"}]
        ) as s:
            s.get_final_message()
    text, a = journal(srv, test_id="a")
    assert FAKE_KEY not in text and len(a) == 2 and all(e["stream"] and e["chunks"] > 0 for e in a)
    assert a[0]["neutral"]["api"] == "anthropic-messages"
    r = httpx2.delete(srv.url + "/api/requests", params={"test_id": "a"}, timeout=10)
    assert r.json() == {"removed": 2, "test_id": "a"}
    assert journal(srv, test_id="a")[1] == [] and len(journal(srv, test_id="b")[1]) == 1
