"""Gemini generateContent, streaming, countTokens, embeddings and models, driven by google-genai."""

from __future__ import annotations

import jsonschema
import pydantic
import pytest
from google import genai
from google.genai import errors, types

from .schemas import ORDER, WEATHER

pytestmark = pytest.mark.sdk


def make_client(url: str, version: str | None = None) -> genai.Client:
    return genai.Client(api_key="AIza-test", http_options=types.HttpOptions(base_url=url, api_version=version))


@pytest.fixture(scope="module", params=["v1beta", "v1"])
def client(server, request):
    return make_client(server.url, request.param)


def decl(name: str, schema: dict) -> types.FunctionDeclaration:
    return types.FunctionDeclaration(name=name, description=name, parameters_json_schema=schema)


TOOLS = [types.Tool(function_declarations=[decl("get_weather", WEATHER), decl("place_order", ORDER)])]
SCHEMAS = {"get_weather": WEATHER, "place_order": ORDER}


def test_generate(client):
    r = client.models.generate_content(model="gemini-2.5-flash", contents="Hello")
    assert r.text and r.candidates[0].finish_reason == types.FinishReason.STOP
    u = r.usage_metadata
    # gemini-2.5-flash thinks by default: its thoughts are counted apart, and in the total.
    assert u.thoughts_token_count > 0
    assert u.total_token_count == u.prompt_token_count + u.candidates_token_count + u.thoughts_token_count
    assert r.model_version == "gemini-2.5-flash" and r.response_id


def test_stream_matches_non_stream(make_server):
    srv = make_server(synthetic={"default_response": "Gemini streams in pieces.", "tool_call_probability": 0})
    c = make_client(srv.url)
    whole = c.models.generate_content(model="gemini-2.5-flash", contents="Hello")
    chunks = list(c.models.generate_content_stream(model="gemini-2.5-flash", contents="Hello"))
    assert len(chunks) > 1
    assert "".join(ch.text or "" for ch in chunks) == whole.text == "Gemini streams in pieces."
    assert chunks[-1].usage_metadata.candidates_token_count == whole.usage_metadata.candidates_token_count
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert len({ch.response_id for ch in chunks}) == 1


@pytest.mark.parametrize("allowed", [None, ["place_order"]])
@pytest.mark.parametrize("stream", [False, True])
def test_forced_function_call_validates(client, allowed, stream):
    config = types.GenerateContentConfig(
        tools=TOOLS,
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(mode="ANY", allowed_function_names=allowed)
        ),
    )
    for _ in range(5):
        if stream:
            calls = [
                fc
                for ch in client.models.generate_content_stream(model="g", contents="order", config=config)
                for fc in ch.function_calls or []
            ]
        else:
            calls = client.models.generate_content(model="g", contents="order", config=config).function_calls
        assert calls
        for fc in calls:
            jsonschema.validate(fc.args, SCHEMAS[fc.name])
            if allowed:
                assert fc.name == "place_order"


def test_openapi_style_schema(client):
    params = types.Schema(
        type="OBJECT",
        properties={
            "city": types.Schema(type="STRING"),
            "days": types.Schema(type="INTEGER", minimum=1, maximum=5),
            "note": types.Schema(type="STRING", nullable=True),
        },
        required=["city", "days"],
    )
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[types.FunctionDeclaration(name="f", parameters=params)])],
        tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="ANY")),
    )
    fc = client.models.generate_content(model="g", contents="x", config=config).function_calls[0]
    assert isinstance(fc.args["city"], str) and 1 <= fc.args["days"] <= 5


def test_mode_none_never_calls(client):
    config = types.GenerateContentConfig(
        tools=TOOLS, tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="NONE"))
    )
    r = client.models.generate_content(model="g", contents="x", config=config)
    assert not r.function_calls and r.text


class Recipe(pydantic.BaseModel):
    title: str
    minutes: int
    ingredients: list[str]


def test_structured_output(client):
    config = types.GenerateContentConfig(response_mime_type="application/json", response_schema=Recipe)
    r = client.models.generate_content(model="g", contents="a recipe", config=config)
    assert isinstance(r.parsed, Recipe)
    config = types.GenerateContentConfig(
        response_mime_type="application/json", response_json_schema=Recipe.model_json_schema()
    )
    r = client.models.generate_content(model="g", contents="a recipe", config=config)
    Recipe.model_validate_json(r.text)


def test_max_tokens_and_candidates(client):
    r = client.models.generate_content(
        model="g", contents="x", config=types.GenerateContentConfig(max_output_tokens=2, candidate_count=2)
    )
    assert len(r.candidates) == 2
    assert all(c.finish_reason == types.FinishReason.MAX_TOKENS for c in r.candidates)


def test_count_tokens_agrees_with_usage(client):
    contents = "How many tokens is this sentence, exactly?"
    counted = client.models.count_tokens(model="g", contents=contents).total_tokens
    r = client.models.generate_content(model="g", contents=contents)
    assert counted == r.usage_metadata.prompt_token_count


def test_embeddings(client):
    r = client.models.embed_content(model="text-embedding-004", contents=["a", "b"])
    assert len(r.embeddings) == 2 and r.embeddings[0].values != r.embeddings[1].values
    r = client.models.embed_content(
        model="text-embedding-004", contents="a", config=types.EmbedContentConfig(output_dimensionality=64)
    )
    assert len(r.embeddings[0].values) == 64


def test_models(client):
    names = [m.name for m in client.models.list()]
    assert any(n.endswith("gemini-2.5-flash") for n in names)
    assert client.models.get(model="gemini-custom").name.endswith("gemini-custom")


def test_malformed_request(client):
    with pytest.raises(errors.ClientError) as info:
        client.models.generate_content(model="g", contents=[types.Content(role="wizard", parts=[types.Part(text="x")])])
    assert info.value.code == 400


async def test_async(server):
    c = make_client(server.url)
    r = await c.aio.models.generate_content(model="g", contents="hi")
    assert r.candidates
    chunks = [ch async for ch in await c.aio.models.generate_content_stream(model="g", contents="hi")]
    assert chunks
