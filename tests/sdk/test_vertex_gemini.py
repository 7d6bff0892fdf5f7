"""Gemini on Vertex AI, driven by google-genai in Vertex mode (fake credentials: nothing leaves 127.0.0.1)."""

from __future__ import annotations

from typing import Any

import httpx
import jsonschema
import pytest
from google import genai
from google.genai import errors, types
from google.oauth2.credentials import Credentials

from .schemas import ORDER, WEATHER
from .test_gemini import Recipe

pytestmark = pytest.mark.sdk

MODEL = "gemini-2.5-flash"


def make_client(url: str, version: str | None = None, headers: dict[str, str] | None = None) -> genai.Client:
    # A token already given is never refreshed, so the client asks no Google server for one.
    return genai.Client(
        vertexai=True,
        project="my-project",
        location="us-central1",
        credentials=Credentials(token="ya29.fake"),
        http_options=types.HttpOptions(
            base_url=url, api_version=version, headers=headers, retry_options=types.HttpRetryOptions(attempts=1)
        ),
    )


@pytest.fixture(scope="module", params=["v1beta1", "v1"])
def client(server, request):
    return make_client(server.url, request.param)


def decl(name: str, schema: dict[str, Any]) -> types.FunctionDeclaration:
    return types.FunctionDeclaration(name=name, description=name, parameters_json_schema=schema)


TOOLS = [types.Tool(function_declarations=[decl("get_weather", WEATHER), decl("place_order", ORDER)])]
SCHEMAS = {"get_weather": WEATHER, "place_order": ORDER}


def test_generate_with_usage(client):
    r = client.models.generate_content(model=MODEL, contents="Hello")
    assert r.text and r.candidates[0].finish_reason == types.FinishReason.STOP
    u = r.usage_metadata
    assert u.prompt_token_count > 0 and u.candidates_token_count > 0
    assert u.total_token_count == u.prompt_token_count + u.candidates_token_count + (u.thoughts_token_count or 0)


def test_stream_matches_non_stream(make_server):
    srv = make_server(synthetic={"default_response": "Vertex streams in pieces.", "tool_call_probability": 0})
    c = make_client(srv.url)
    whole = c.models.generate_content(model=MODEL, contents="Hello")
    chunks = list(c.models.generate_content_stream(model=MODEL, contents="Hello"))
    assert len(chunks) > 1
    assert "".join(ch.text or "" for ch in chunks) == whole.text == "Vertex streams in pieces."
    assert chunks[-1].usage_metadata.candidates_token_count == whole.usage_metadata.candidates_token_count


@pytest.mark.parametrize("stream", [False, True])
def test_forced_function_call_validates(client, stream):
    config = types.GenerateContentConfig(
        tools=TOOLS, tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="ANY"))
    )
    for _ in range(5):
        if stream:
            chunks = client.models.generate_content_stream(model=MODEL, contents="order", config=config)
            calls = [fc for ch in chunks for fc in ch.function_calls or []]
        else:
            calls = client.models.generate_content(model=MODEL, contents="order", config=config).function_calls
        assert calls
        for fc in calls:
            jsonschema.validate(fc.args, SCHEMAS[fc.name])


def test_tool_result_is_answered_in_text(make_server):
    srv = make_server(synthetic={"tool_call_probability": 1.0, "tool_call_after_result_probability": 0.0})
    c = make_client(srv.url)
    config = types.GenerateContentConfig(
        tools=TOOLS, automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True)
    )
    contents: list[Any] = [types.Content(role="user", parts=[types.Part(text="Weather in Paris?")])]
    first = c.models.generate_content(model=MODEL, contents=contents, config=config)
    assert first.function_calls
    contents.append(first.candidates[0].content)
    result = types.Part.from_function_response(name=first.function_calls[0].name or "", response={"celsius": 21})
    contents.append(types.Content(role="user", parts=[result]))
    second = c.models.generate_content(model=MODEL, contents=contents, config=config)
    assert not second.function_calls and second.text


def test_structured_output(client):
    config = types.GenerateContentConfig(response_mime_type="application/json", response_schema=Recipe)
    assert isinstance(client.models.generate_content(model=MODEL, contents="a recipe", config=config).parsed, Recipe)


def test_count_tokens_agrees_with_usage(client):
    counted = client.models.count_tokens(model=MODEL, contents="How many tokens is this?").total_tokens
    used = client.models.generate_content(model=MODEL, contents="How many tokens is this?").usage_metadata
    assert counted == used.prompt_token_count > 0


@pytest.mark.parametrize(("model", "dims"), [("text-embedding-005", 768), ("gemini-embedding-001", 3072)])
def test_embeddings(client, model, dims):
    # text-embedding models go through :predict, Gemini's through :embedContent / :batchEmbedContents.
    one = client.models.embed_content(model=model, contents="cats purr")
    assert len(one.embeddings) == 1 and len(one.embeddings[0].values) == dims
    small = types.EmbedContentConfig(output_dimensionality=64)
    two = client.models.embed_content(model=model, contents=["cats purr", "dogs bark"], config=small)
    assert [len(e.values) for e in two.embeddings] == [64, 64]
    assert two.embeddings[0].values != two.embeddings[1].values


@pytest.mark.parametrize(("status", "error"), [("429", errors.ClientError), ("500", errors.ServerError)])
@pytest.mark.parametrize("stream", [False, True])
def test_injected_errors_raise_the_sdk_errors(server, status, error, stream):
    c = make_client(server.url, headers={"x-llmreplay-status": status})
    with pytest.raises(error) as info:
        if stream:
            list(c.models.generate_content_stream(model=MODEL, contents="Hello"))
        else:
            c.models.generate_content(model=MODEL, contents="Hello")
    assert info.value.code == int(status)
    assert info.value.status == {"429": "RESOURCE_EXHAUSTED", "500": "INTERNAL"}[status]


def test_endpoint_names_configure_and_journal(make_server):
    srv = make_server()
    faulty = make_client(srv.url, headers={"x-llmreplay-fault": "429"})  # held: a dropped client closes itself
    with pytest.raises(errors.ClientError):
        faulty.models.generate_content(model=MODEL, contents="Hi")
    # vertex-stream refines vertex-gemini: switched off alone, the stream refuses and generateContent answers.
    assert httpx.patch(srv.url + "/api/config/endpoints/vertex-stream", json={"enabled": False}).status_code == 200
    c = make_client(srv.url)
    assert c.models.generate_content(model=MODEL, contents="Hello").text
    with pytest.raises(errors.APIError):
        list(c.models.generate_content_stream(model=MODEL, contents="Hello"))
    journal = httpx.get(srv.url + "/api/requests", params={"endpoint": "vertex-gemini"}).json()
    entries = journal["entries"] if isinstance(journal, dict) else journal
    assert len(entries) == 3


async def test_async(server):
    c = make_client(server.url)
    r = await c.aio.models.generate_content(model=MODEL, contents="Hello")
    assert r.text
    chunks = [ch async for ch in await c.aio.models.generate_content_stream(model=MODEL, contents="Hello")]
    assert chunks


def test_rate_limited_by_its_endpoint_name(make_server):
    srv = make_server()
    limit = {"rate_limit": {"enabled": True, "strategy": "after-n", "after_n": 1}}
    assert httpx.patch(srv.url + "/api/config/endpoints/vertex-generate", json=limit).status_code == 200
    c = make_client(srv.url)
    c.models.generate_content(model=MODEL, contents="Hello")
    with pytest.raises(errors.ClientError) as info:
        c.models.generate_content(model=MODEL, contents="Hello")
    assert info.value.code == 429
    assert list(c.models.generate_content_stream(model=MODEL, contents="Hello"))  # vertex-stream is not limited


def test_a_tuned_model_on_a_project_endpoint(client):
    tuned = "projects/my-project/locations/us-central1/endpoints/1234567890"
    assert client.models.generate_content(model=tuned, contents="Hello").text
    assert list(client.models.generate_content_stream(model=tuned, contents="Hello"))
