"""The road's side of the test double: a rule answers before any source, the journal names every exchange in
the answer's headers, a test id scopes it (header or base-URL prefix), and strict mode refuses what no rule
or recording answers."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx
import openai
import pytest

from llmreplay.server import BackgroundServer

pytestmark = pytest.mark.sdk

WEATHER = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
    },
}
RULES = {
    "rules": [
        {
            "name": "answer-the-result",
            "match": {"tool_result": {"name": "get_weather"}},
            "reply": {"text": "It is sunny in Paris."},
        },
        {
            "name": "call-the-tool",
            "match": {"last_user": "weather"},
            "reply": {"tool_calls": [{"name": "get_weather", "arguments": {"city": "Paris"}}]},
        },
    ]
}


def _admin(server: BackgroundServer, method: str, path: str, body: Any = None) -> Any:
    resp = httpx.request(method, server.url + path, json=body, timeout=10)
    assert resp.status_code < 300, resp.text
    return resp.json()


def _loop(client: openai.OpenAI) -> tuple[str | None, list[Any]]:
    """The app under test: asks, runs the tool the model calls, sends its result back, returns the answer."""
    messages: list[Any] = [{"role": "user", "content": "What is the weather in Paris?"}]
    raws = []
    for _ in range(4):
        raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=messages, tools=[WEATHER])
        raws.append(raw)
        message = raw.parse().choices[0].message
        if not message.tool_calls:
            return message.content, raws
        messages.append(message.model_dump(exclude_none=True))
        for call in message.tool_calls:
            result = {"city": json.loads(call.function.arguments)["city"], "sky": "sunny"}
            messages.append({"role": "tool", "tool_call_id": call.id, "content": json.dumps(result)})
    raise AssertionError("the loop did not end")


def test_rules_script_an_agent_loop_and_the_journal_tells_it(make_server: Callable[..., BackgroundServer]) -> None:
    server = make_server(synthetic={"tool_call_probability": 1.0})
    _admin(server, "PUT", "/api/rules", RULES)
    client = openai.OpenAI(base_url=server.url + "/v1", api_key="sk-secret-key-in-every-header", max_retries=0)
    answer, raws = _loop(client)
    assert answer == "It is sunny in Paris."
    assert [r.headers["x-llmreplay-source"] for r in raws] == ["rule:call-the-tool#0", "rule:answer-the-result#0"]
    entries = _admin(server, "GET", "/api/requests")
    assert [e["id"] for e in entries] == [r.headers["x-llmreplay-request-id"] for r in raws]
    assert [e["answered_by"] for e in entries] == [
        {"rule": "call-the-tool", "step": 0},
        {"rule": "answer-the-result", "step": 0},
    ]
    assert entries[1]["neutral"]["messages"][-1]["results"][0]["name"] == "get_weather"
    assert "sk-secret-key-in-every-header" not in json.dumps(entries)


def test_a_test_id_scopes_the_journal_by_header_or_prefix(make_server: Callable[..., BackgroundServer]) -> None:
    server = make_server()
    by_header = openai.OpenAI(base_url=server.url + "/v1", api_key="k", default_headers={"x-llmreplay-test-id": "a"})
    by_prefix = openai.OpenAI(base_url=server.url + "/_test/b%2F1/v1", api_key="k")
    hi = [{"role": "user", "content": "hi"}]
    by_header.chat.completions.create(model="gpt-4o", messages=hi)
    for _ in range(2):
        by_prefix.chat.completions.create(model="gpt-4o", messages=hi, stream=True).close()
    assert len(_admin(server, "GET", "/api/requests?test_id=a")) == 1
    scoped = _admin(server, "GET", "/api/requests?test_id=b/1")
    assert [(e["path"], e["test_id"]) for e in scoped] == [("/v1/chat/completions", "b/1")] * 2


def test_a_scenario_key_is_each_tests_own(make_server: Callable[..., BackgroundServer]) -> None:
    server = make_server()
    hi = [{"role": "user", "content": "hi"}]
    for test in ("one", "two"):
        client = openai.OpenAI(
            base_url=f"{server.url}/_test/{test}/v1",
            api_key="k",
            max_retries=0,
            default_headers={"x-llmreplay-scenario": "429,ok"},
        )
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="gpt-4o", messages=hi)
        assert client.chat.completions.create(model="gpt-4o", messages=hi).choices


def test_strict_mode_refuses_what_no_rule_answers(make_server: Callable[..., BackgroundServer]) -> None:
    server = make_server()
    client = openai.OpenAI(
        base_url=server.url + "/v1", api_key="k", max_retries=0, default_headers={"x-llmreplay-strict": "true"}
    )
    with pytest.raises(openai.BadRequestError, match="strict"):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    _admin(server, "PUT", "/api/rules", {"rules": [{"name": "hi", "reply": {"text": "hello"}}]})
    reply = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert reply.choices[0].message.content == "hello"
    sources = [e["source"] for e in _admin(server, "GET", "/api/requests")]
    assert sources == ["error", "rule"]


def test_an_unknown_path_under_a_test_prefix_is_the_providers_404(make_server: Callable[..., BackgroundServer]) -> None:
    server = make_server()
    resp = httpx.post(server.url + "/_test/x/v1/nothing", json={})
    assert resp.status_code == 404 and "error" in resp.json()
    assert httpx.get(server.url + "/_test//v1/models").status_code == 404
