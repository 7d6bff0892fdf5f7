"""Claude on Vertex AI (``:rawPredict`` / ``:streamRawPredict``), driven by the anthropic package's AnthropicVertex."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import jsonschema
import pydantic
import pytest

from .schemas import ORDER, WEATHER

pytestmark = pytest.mark.sdk

USER: list[Any] = [{"role": "user", "content": "Hello there"}]
TOOLS: list[Any] = [
    {"name": "get_weather", "description": "weather", "input_schema": WEATHER},
    {"name": "place_order", "description": "order", "input_schema": ORDER},
]
SCHEMAS = {"get_weather": WEATHER, "place_order": ORDER}
MODEL = "claude-sonnet-4-5@20250929"


def make_client(url: str, **kw: Any) -> anthropic.AnthropicVertex:
    # The SDK's base URL ends in the API version; an access token given is used as it is, never refreshed.
    return anthropic.AnthropicVertex(
        region="us-east5", project_id="my-project", access_token="ya29.fake", base_url=url + "/v1", **kw
    )


@pytest.fixture(scope="module")
def client(server):
    return make_client(server.url, max_retries=0)


def test_create_with_usage(client):
    m = client.messages.create(model=MODEL, max_tokens=1024, messages=USER, system="Be brief.")
    assert m.type == "message" and m.stop_reason == "end_turn" and m.content[0].text
    assert m.model == MODEL
    assert m.usage.input_tokens > 0 and m.usage.output_tokens > 0


def test_stream_matches_non_stream(make_server):
    srv = make_server(synthetic={"default_response": "Same words either way.", "tool_call_probability": 0})
    c = make_client(srv.url, max_retries=0)
    whole = c.messages.create(model=MODEL, max_tokens=100, messages=USER)
    with c.messages.stream(model=MODEL, max_tokens=100, messages=USER) as s:
        text = "".join(s.text_stream)
        streamed = s.get_final_message()
    assert text == streamed.content[0].text == whole.content[0].text == "Same words either way."
    assert streamed.usage.output_tokens == whole.usage.output_tokens


@pytest.mark.parametrize("choice", [{"type": "any"}, {"type": "tool", "name": "place_order"}])
@pytest.mark.parametrize("stream", [False, True])
def test_forced_tool_use_validates(client, choice, stream):
    for _ in range(5):
        if stream:
            with client.messages.stream(
                model=MODEL, max_tokens=500, messages=USER, tools=TOOLS, tool_choice=choice
            ) as s:
                m = s.get_final_message()
        else:
            m = client.messages.create(model=MODEL, max_tokens=500, messages=USER, tools=TOOLS, tool_choice=choice)
        uses = [b for b in m.content if b.type == "tool_use"]
        assert m.stop_reason == "tool_use" and uses
        for b in uses:
            jsonschema.validate(b.input, SCHEMAS[b.name])
            if choice["type"] == "tool":
                assert b.name == "place_order"


def test_tool_result_is_answered_in_text(make_server):
    srv = make_server(synthetic={"tool_call_probability": 1.0, "tool_call_after_result_probability": 0.0})
    c = make_client(srv.url, max_retries=0)
    messages: list[Any] = [{"role": "user", "content": "Weather in Paris?"}]
    first = c.messages.create(model=MODEL, max_tokens=500, messages=messages, tools=TOOLS)
    use = next(b for b in first.content if b.type == "tool_use")
    messages.append({"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]})
    messages.append({"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "21 C"}]})
    second = c.messages.create(model=MODEL, max_tokens=500, messages=messages, tools=TOOLS)
    assert second.stop_reason == "end_turn" and all(b.type == "text" for b in second.content)


class Recipe(pydantic.BaseModel):
    title: str
    minutes: int
    ingredients: list[str]


def test_structured_output(client):
    fmt = {"type": "json_schema", "schema": Recipe.model_json_schema()}
    m = client.messages.create(model=MODEL, max_tokens=500, messages=USER, output_config={"format": fmt})
    Recipe.model_validate_json(m.content[0].text)


def test_count_tokens_agrees_with_usage(client):
    args: dict[str, Any] = {"model": MODEL, "messages": USER, "system": "Be brief."}
    counted = client.messages.count_tokens(**args).input_tokens
    assert counted == client.messages.create(max_tokens=100, **args).usage.input_tokens > 0


@pytest.mark.parametrize(
    ("status", "error"), [("429", anthropic.RateLimitError), ("500", anthropic.InternalServerError)]
)
@pytest.mark.parametrize("stream", [False, True])
def test_injected_errors_raise_the_sdk_errors(client, status, error, stream):
    with pytest.raises(error) as info:
        client.messages.create(
            model=MODEL, max_tokens=100, messages=USER, stream=stream, extra_headers={"x-llmreplay-status": status}
        )
    assert info.value.status_code == int(status)


def test_retried_when_told_to(server):
    # Every attempt carries the header, so each fails: the journal counts the SDK's retries.
    c = make_client(server.url, max_retries=2)
    test_id = "vertex-anthropic-retries"
    with pytest.raises(anthropic.RateLimitError):
        c.messages.create(
            model=MODEL,
            max_tokens=100,
            messages=USER,
            extra_headers={"x-llmreplay-fault": "429", "x-llmreplay-test-id": test_id},
        )
    journal = httpx.get(server.url + "/api/requests", params={"test_id": test_id}).json()
    entries = journal["entries"] if isinstance(journal, dict) else journal
    assert len(entries) == 3 and {e["endpoint"] for e in entries} == {"vertex-anthropic-messages"}


def test_a_body_without_anthropic_version_is_refused(server):
    url = server.url + "/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-x:rawPredict"
    r = httpx.post(url, json={"max_tokens": 10, "messages": USER}, headers={"authorization": "Bearer x"})
    assert r.status_code == 400
    assert r.json()["error"]["type"] == "invalid_request_error" and "anthropic_version" in r.text


async def test_async(server):
    c = anthropic.AsyncAnthropicVertex(
        region="us-east5", project_id="my-project", access_token="ya29.fake", base_url=server.url + "/v1"
    )
    m = await c.messages.create(model=MODEL, max_tokens=100, messages=USER)
    assert m.content
    async with c.messages.stream(model=MODEL, max_tokens=100, messages=USER) as s:
        assert (await s.get_final_message()).content


def test_a_rule_for_vertex_alone_and_a_429_the_sdk_retries(make_server):
    srv = make_server()
    flaky = {
        "name": "flaky-on-vertex",
        "match": {"endpoint": ["vertex-anthropic-messages"]},
        "steps": [{"outcome": "429"}, {"text": "Fine now."}],
        "then": "repeat-last",
    }
    assert httpx.put(srv.url + "/api/rules", json={"rules": [flaky]}).status_code == 200
    m = make_client(srv.url, max_retries=2).messages.create(model=MODEL, max_tokens=100, messages=USER)
    assert m.content[0].text == "Fine now."
    direct = anthropic.Anthropic(base_url=srv.url, api_key="k", max_retries=0)
    assert direct.messages.create(model="c", max_tokens=100, messages=USER).content[0].text != "Fine now."


def test_rate_limited_by_its_endpoint_name(make_server):
    srv = make_server()
    limit = {"rate_limit": {"enabled": True, "strategy": "after-n", "after_n": 1}}
    assert httpx.patch(srv.url + "/api/config/endpoints/vertex-anthropic-messages", json=limit).status_code == 200
    c = make_client(srv.url, max_retries=0)
    c.messages.create(model=MODEL, max_tokens=100, messages=USER)
    with pytest.raises(anthropic.RateLimitError):
        c.messages.create(model=MODEL, max_tokens=100, messages=USER)


def test_metrics_count_the_vertex_endpoint(make_server):
    srv = make_server()
    make_client(srv.url, max_retries=0).messages.create(model=MODEL, max_tokens=50, messages=USER)
    assert 'endpoint="vertex-anthropic-messages"' in httpx.get(srv.url + "/metrics").text
    assert "vertex-anthropic-messages" in httpx.get(srv.url + "/api/metrics").text
