"""The Gemini codec: requests, renders validated by google-genai, recorded fixtures, routes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp import web
from google.genai import models as genai_models
from google.genai import types

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Call, Candidate, Finish, Reply, Text, Thinking, ToolCall, Usage
from llmreplay.providers import gemini
from llmreplay.providers.base import RenderOptions, Route
from llmreplay.providers.gemini_schema import to_json_schema
from llmreplay.synth.tokens import prompt_tokens
from tests.real_fixtures import REAL

FIXTURES = sorted((Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "real" / "gemini").glob("*.json"))
if not FIXTURES:
    FIXTURES = sorted((REAL / "gemini").glob("*.json"))
OPTS = RenderOptions(chunk_size=5)
CODEC = gemini.CODEC


def call(body: Any, model: str = "gemini-2.5-flash", op: str = "generateContent", query: dict | None = None) -> Call:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    path = f"/v1beta/models/{model}:{op}"
    return Call("POST", path, {"model": model}, query or {}, {"content-type": "application/json"}, raw)


def reply(*parts: Any, finish: Finish = Finish.STOP, n: int = 1) -> Reply:
    cands = tuple(Candidate(tuple(parts), finish) for _ in range(n))
    return Reply("abc123", "gemini-2.5-flash", 1700000000, cands, Usage(10, 7, 2))


HELLO = {"contents": [{"role": "user", "parts": [{"text": "Hello there"}]}]}


# ---- requests -------------------------------------------------------------------------


def test_parse_basic_request() -> None:
    body = {
        **HELLO,
        "systemInstruction": {"parts": [{"text": "Be brief."}]},
        "generationConfig": {"maxOutputTokens": 50, "stopSequences": ["END"], "candidateCount": 2, "seed": 3},
    }
    req = CODEC.parse_request(call(body))
    assert req.api == "gemini" and req.model == "gemini-2.5-flash"
    assert req.system == "Be brief."
    assert req.messages[0].role == "user" and req.messages[0].text == "Hello there"
    assert (req.max_tokens, req.stop, req.n, req.seed, req.stream) == (50, ("END",), 2, 3, False)


def test_parse_snake_case_and_tools() -> None:
    body = {
        "contents": [
            {"role": "user", "parts": [{"text": "weather?"}]},
            {"role": "model", "parts": [{"function_call": {"name": "get_weather", "args": {"city_name": "Paris"}}}]},
            {"role": "user", "parts": [{"function_response": {"name": "get_weather", "response": {"temp_c": 20}}}]},
        ],
        "system_instruction": "Be helpful",
        "tools": [
            {
                "function_declarations": [
                    {
                        "name": "get_weather",
                        "description": "Weather",
                        "parameters": {
                            "type": "OBJECT",
                            "properties": {"city_name": {"type": "STRING", "nullable": True}},
                            "required": ["city_name"],
                        },
                    },
                    {"name": "other", "parameters_json_schema": {"type": "object", "properties": {"x_y": {}}}},
                ]
            },
            {"google_search": {}},
        ],
        "tool_config": {"function_calling_config": {"mode": "ANY", "allowed_function_names": ["get_weather"]}},
        "generation_config": {"thinking_config": {"include_thoughts": True, "thinking_budget": 100}},
    }
    req = CODEC.parse_request(call(body))
    assert req.system == "Be helpful"
    assert [m.role for m in req.messages] == ["user", "assistant", "tool"]
    assert "city_name" in req.messages[1].text
    assert req.tools[0].schema == {
        "type": "object",
        "properties": {"city_name": {"type": ["string", "null"]}},
        "required": ["city_name"],
    }
    assert req.tools[1].schema["properties"] == {"x_y": {}}
    assert req.tool_choice.mode == "required" and req.tool_choice.names == ("get_weather",)
    assert req.thinking


@pytest.mark.parametrize(
    ("config", "kind"),
    [
        ({"responseMimeType": "application/json"}, "json"),
        (
            {"responseMimeType": "application/json", "responseSchema": {"type": "ARRAY", "items": {"type": "INTEGER"}}},
            "json_schema",
        ),
        ({"responseMimeType": "application/json", "responseJsonSchema": {"type": "object"}}, "json_schema"),
        ({}, "text"),
    ],
)
def test_output_format(config: dict[str, Any], kind: str) -> None:
    req = CODEC.parse_request(call({**HELLO, "generationConfig": config}))
    assert req.output.kind == kind
    if "responseSchema" in config:
        assert req.output.schema == {"type": "array", "items": {"type": "integer"}}


def test_tool_choice_modes() -> None:
    def mode(m: str) -> str:
        body = {**HELLO, "toolConfig": {"functionCallingConfig": {"mode": m}}}
        return CODEC.parse_request(call(body)).tool_choice.mode

    assert (mode("AUTO"), mode("ANY"), mode("NONE"), mode("VALIDATED")) == ("auto", "required", "none", "auto")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"not json", "JSON"),
        ({}, "contents"),
        ({"contents": [{"role": "bot", "parts": [{"text": "x"}]}]}, "contents[0].role"),
        ({**HELLO, "generationConfig": {"maxOutputTokens": 0}}, "generationConfig.maxOutputTokens"),
        ({**HELLO, "generationConfig": {"temperature": "hot"}}, "generationConfig.temperature"),
        ({**HELLO, "toolConfig": {"functionCallingConfig": {"mode": "SOMETIMES"}}}, "functionCallingConfig.mode"),
        ({"contents": "hello"}, "contents"),
    ],
)
def test_bad_requests_name_the_field(body: Any, field: str) -> None:
    with pytest.raises(ApiError) as exc:
        CODEC.parse_request(call(body))
    assert exc.value.kind is ErrorKind.INVALID_REQUEST
    assert field in exc.value.message


def test_stream_wire_choice() -> None:
    sse = CODEC.parse_request(call(HELLO, op="streamGenerateContent", query={"alt": "sse", "key": "k"}))
    arr = CODEC.parse_request(call(HELLO, op="streamGenerateContent"))
    assert sse.stream and sse.wire["sse"] is True
    assert arr.stream and arr.wire["sse"] is False


def test_schema_conversion() -> None:
    schema = {
        "type": "OBJECT",
        "properties": {
            "tags": {"type": "ARRAY", "items": {"type": "STRING"}, "max_items": "3"},
            "kind": {"any_of": [{"type": "STRING"}, {"type": "NUMBER"}], "nullable": True},
        },
        "propertyOrdering": ["tags", "kind"],
    }
    assert to_json_schema(schema) == {
        "type": "object",
        "properties": {
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 3},
            "kind": {"anyOf": [{"type": "string"}, {"type": "number"}, {"type": "null"}]},
        },
    }


# ---- rendering, validated by google-genai -----------------------------------------------------


def render(r: Reply, body: dict[str, Any] = HELLO, **kw: Any) -> Any:
    req = CODEC.parse_request(call(body, **kw))
    return CODEC.render(r, req, OPTS)


def test_render_text() -> None:
    ans = render(reply(Text("Paris is the capital.")))
    assert ans.status == 200 and ("content-type", "application/json; charset=UTF-8") in ans.headers
    data = json.loads(ans.body)
    resp = types.GenerateContentResponse.model_validate(data)
    assert resp.text == "Paris is the capital."
    assert data["candidates"][0]["finishReason"] == "STOP"
    u = data["usageMetadata"]
    assert (u["promptTokenCount"], u["candidatesTokenCount"], u["thoughtsTokenCount"], u["totalTokenCount"]) == (
        10,
        5,
        2,
        17,
    )
    assert data["modelVersion"] == "gemini-2.5-flash" and len(data["responseId"]) == 22
    assert ans.steps == 5


def test_render_tool_call_and_thinking() -> None:
    r = reply(Thinking("hmm", "c2ln"), ToolCall("1", "get_weather", '{"city": "Paris"}'), finish=Finish.TOOL_CALLS)
    data = json.loads(render(r).body)
    resp = types.GenerateContentResponse.model_validate(data)
    assert resp.function_calls[0].name == "get_weather" and resp.function_calls[0].args == {"city": "Paris"}
    parts = data["candidates"][0]["content"]["parts"]
    assert parts[0] == {"text": "hmm", "thought": True, "thoughtSignature": "c2ln"}
    assert data["candidates"][0]["finishReason"] == "STOP"


def test_render_length_and_logprobs() -> None:
    body = {**HELLO, "generationConfig": {"responseLogprobs": True}}
    data = json.loads(render(reply(Text("x"), finish=Finish.LENGTH), body).body)
    assert data["candidates"][0]["finishReason"] == "MAX_TOKENS"
    assert data["candidates"][0]["avgLogprobs"] < 0


def test_render_sse_stream() -> None:
    r = reply(Text("Hello world, how are you?"), ToolCall("1", "f", '{"a": 1}'), n=2)
    ans = render(r, op="streamGenerateContent", query={"alt": "sse"})
    assert ans.stream and dict(ans.headers)["content-type"] == "text/event-stream"
    assert all(f.data.startswith(b"data: ") and f.data.endswith(b"\r\n\r\n") for f in ans.frames)
    assert all(f.paced for f in ans.frames)
    chunks = [types.GenerateContentResponse.model_validate(json.loads(f.data[6:])) for f in ans.frames]
    assert "".join(c.candidates[0].content.parts[0].text or "" for c in chunks[:-1]) == "Hello world, how are you?"
    assert chunks[-1].function_calls[0].name == "f"
    assert chunks[-1].candidates[0].finish_reason == "STOP"
    assert all(c.finish_reason is None for c in chunks[0].candidates)
    assert all(c.usage_metadata is not None and c.response_id == chunks[0].response_id for c in chunks)
    assert chunks[-1].usage_metadata.total_token_count == 17
    back = CODEC.events_to_reply(CODEC.parse_events(ans.body))
    assert back.candidates[0].text == "Hello world, how are you?"
    assert back.candidates[0].tool_calls[0].input == {"a": 1}
    assert back.candidates[0].finish is Finish.TOOL_CALLS and len(back.candidates) == 2
    assert back.usage == r.usage


def test_render_array_stream() -> None:
    ans = render(reply(Text("Hello world")), op="streamGenerateContent")
    body = ans.body
    assert body.startswith(b"[{\n") and body.endswith(b"}\n]") and b"\n,\r\n" in body
    assert not ans.frames[-1].paced
    assert [c["candidates"][0]["content"]["parts"][0]["text"] for c in json.loads(body)] == ["Hello", " worl", "d"]
    events = CODEC.parse_events(body)
    assert CODEC.encode_events(events) == body and [e.type for e in events] == ["chunk"] * 3
    assert CODEC.events_to_reply(events).candidates[0].text == "Hello world"


def test_render_error() -> None:
    ans = CODEC.render_error(ApiError(ErrorKind.INVALID_REQUEST, "bad field"), OPTS)
    assert ans.status == 400 and dict(ans.headers)["content-type"] == "application/json; charset=UTF-8"
    assert json.loads(ans.body) == {"error": {"code": 400, "message": "bad field", "status": "INVALID_ARGUMENT"}}
    for kind, status, name in [
        (ErrorKind.AUTHENTICATION, 401, "UNAUTHENTICATED"),
        (ErrorKind.PERMISSION, 403, "PERMISSION_DENIED"),
        (ErrorKind.NOT_FOUND, 404, "NOT_FOUND"),
        (ErrorKind.RATE_LIMIT, 429, "RESOURCE_EXHAUSTED"),
        (ErrorKind.SERVER, 500, "INTERNAL"),
        (ErrorKind.UNAVAILABLE, 503, "UNAVAILABLE"),
        (ErrorKind.OVERLOADED, 503, "UNAVAILABLE"),
        (ErrorKind.TIMEOUT, 504, "DEADLINE_EXCEEDED"),
    ]:
        a = CODEC.render_error(ApiError(kind, ""), OPTS)
        err = json.loads(a.body)["error"]
        assert (a.status, err["code"], err["status"]) == (status, status, name) and err["message"]
    raw = CODEC.in_stream_error(ApiError(ErrorKind.SERVER, "boom"), OPTS)
    assert raw is not None and raw.startswith(b"data: ") and raw.endswith(b"\r\n\r\n")
    assert json.loads(raw[6:])["error"]["code"] == 500


# ---- ops ---------------------------------------------------------------------------------------


def test_count_tokens_matches_generation() -> None:
    body = {**HELLO, "systemInstruction": {"parts": [{"text": "sys"}]}}
    expected = prompt_tokens(CODEC.parse_request(call(body)))
    for b in (body, {"generateContentRequest": {"model": "models/gemini-2.5-flash", **body}}):
        data = json.loads(gemini.count_tokens(call(b, op="countTokens"), OPTS).body)
        resp = types.CountTokensResponse.model_validate(genai_models._CountTokensResponse_from_mldev(data))
        assert resp.total_tokens == expected
    gen = json.loads(render(reply(Text("x")), body).body)
    assert gen["usageMetadata"]["promptTokenCount"] == 10  # the Reply's own usage is rendered as given


def test_embed_content() -> None:
    c = call({"content": {"parts": [{"text": "hello"}]}}, model="text-embedding-004", op="embedContent")
    data = json.loads(gemini.embed_content(c, OPTS).body)
    resp = types.EmbedContentResponse.model_validate(
        genai_models._EmbedContentResponse_from_mldev({"embeddings": [data["embedding"]]})
    )
    assert len(resp.embeddings[0].values) == 768
    again = json.loads(gemini.embed_content(c, OPTS).body)
    assert again == data
    c = call(
        {"content": {"parts": [{"text": "hello"}]}, "output_dimensionality": 16},
        model="gemini-embedding-001",
        op="embedContent",
    )
    assert len(json.loads(gemini.embed_content(c, OPTS).body)["embedding"]["values"]) == 16
    c = call({"content": {"parts": [{"text": "hello"}]}}, model="gemini-embedding-001", op="embedContent")
    assert len(json.loads(gemini.embed_content(c, OPTS).body)["embedding"]["values"]) == 3072


def test_batch_embed() -> None:
    reqs = [{"model": "models/text-embedding-004", "content": {"parts": [{"text": t}]}} for t in ("a", "b")]
    c = call({"requests": reqs}, model="text-embedding-004", op="batchEmbedContents")
    data = json.loads(gemini.batch_embed_contents(c, OPTS).body)
    resp = types.EmbedContentResponse.model_validate(genai_models._EmbedContentResponse_from_mldev(data))
    assert len(resp.embeddings) == 2 and resp.embeddings[0].values != resp.embeddings[1].values
    with pytest.raises(ApiError):
        gemini.batch_embed_contents(call({"requests": []}, op="batchEmbedContents"), OPTS)
    with pytest.raises(ApiError, match="content"):
        gemini.embed_content(call({}, op="embedContent"), OPTS)


def test_models_list_and_get() -> None:
    first = json.loads(gemini.list_models(Call("GET", "/v1beta/models", query={"pageSize": "3"}), OPTS).body)
    assert len(first["models"]) == 3 and "nextPageToken" in first
    seen = [m["name"] for m in first["models"]]
    token = first["nextPageToken"]
    while token:
        page = json.loads(
            gemini.list_models(Call("GET", "/v1beta/models", query={"pageSize": "3", "pageToken": token}), OPTS).body
        )
        seen += [m["name"] for m in page["models"]]
        token = page.get("nextPageToken")
    assert len(seen) == len(set(seen)) and all(n.startswith("models/") for n in seen)
    for m, name in zip(first["models"], seen, strict=False):
        model = types.Model._from_response(response=genai_models._Model_from_mldev(dict(m)), kwargs={})
        assert model.name == name and model.input_token_limit
    got = json.loads(gemini.get_model(Call("GET", "/v1beta/models/x", {"model": "gemini-2.5-flash"}), OPTS).body)
    assert got["name"] == "models/gemini-2.5-flash" and "generateContent" in got["supportedGenerationMethods"]
    made_up = json.loads(gemini.get_model(Call("GET", "/v1beta/models/x", {"model": "gemini-9-ultra"}), OPTS).body)
    assert made_up["name"] == "models/gemini-9-ultra"
    with pytest.raises(ApiError):
        gemini.list_models(Call("GET", "/v1beta/models", query={"pageToken": "!!"}), OPTS)


# ---- recorded traffic ---------------------------------------------------------------------------


def _fixture_call(rec: dict[str, Any]) -> Call:
    r = rec["request"]
    path = r["path"]
    model = path.rsplit("/models/", 1)[-1].split(":", 1)[0]
    body = r["body"] if isinstance(r["body"], str) else json.dumps(r["body"])
    return Call(r["method"], path, {"model": model}, r.get("query") or {}, {}, body.encode())


@pytest.mark.parametrize("path", FIXTURES, ids=lambda p: p.stem)
def test_fixture(path: Path) -> None:
    rec = json.loads(path.read_text())
    req = rec["request"]
    if ":generateContent" in req["path"] or ":streamGenerateContent" in req["path"]:
        parsed = CODEC.parse_request(_fixture_call(rec))
        assert parsed.stream == rec["stream"]
    resp = rec["response"]
    body = resp["body_text"].encode()
    if rec["stream"]:
        events = CODEC.parse_events(body)
        assert events and all(e.type == "chunk" for e in events)
        assert CODEC.encode_events(events) == body
        r = CODEC.events_to_reply(events)
        assert r.id and r.model
        merged = [json.loads(e.raw.decode().removeprefix("data: ")) for e in events]
        assert [e.data for e in events] == merged
    elif resp["status"] == 200:
        r = CODEC.body_to_reply(body)
        assert r.candidates
    else:
        with pytest.raises(ValueError):
            CODEC.body_to_reply(body)


def test_fixture_stream_merge() -> None:
    rec = json.loads(next(p for p in FIXTURES if p.stem == "test_google_model_stream.0").read_text())
    r = CODEC.events_to_reply(CODEC.parse_events(rec["response"]["body_text"].encode()))
    assert r.candidates[0].text == "The capital of France is Paris.\n"
    assert (r.usage.input_tokens, r.usage.output_tokens) == (13, 8)
    assert r.id == "w1peaMz6INOvnvgPgYfPiQY" and r.model == "gemini-2.0-flash-exp"


# ---- routes over HTTP ------------------------------------------------------------------------------


def _handler(spec: Route) -> Any:
    async def handle(request: web.Request) -> web.Response:
        c = Call(request.method, request.path, dict(request.match_info), dict(request.query), {}, await request.read())
        try:
            ans = spec.op(c, OPTS) if spec.op else CODEC.render(reply(Text("Hi there")), CODEC.parse_request(c), OPTS)
        except ApiError as err:
            ans = CODEC.render_error(err, OPTS)
        return web.Response(status=ans.status, body=ans.body, headers=dict(ans.headers))

    return handle


def _app() -> web.Application:
    app = web.Application()
    for r in gemini.ROUTES:
        app.router.add_route(r.method, r.path, _handler(r))
    return app


async def test_routes_with_colon(aiohttp_client: Any) -> None:
    client = await aiohttp_client(_app())
    for ver in gemini.VERSIONS:
        resp = await client.post(f"/{ver}/models/gemini-2.5-flash:generateContent?key=secret", json=HELLO)
        assert resp.status == 200
        text = await resp.text()
        assert "secret" not in text
        assert types.GenerateContentResponse.model_validate_json(text).text == "Hi there"
        resp = await client.post(f"/{ver}/models/gemini-2.5-flash:countTokens", json=HELLO)
        assert resp.status == 200 and "totalTokens" in await resp.json()
    resp = await client.post("/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse", json=HELLO)
    assert (await resp.read()).startswith(b"data: ")
    resp = await client.post("/v1beta/models/gemini-2.5-flash:generateContent", json={})
    assert resp.status == 400 and (await resp.json())["error"]["status"] == "INVALID_ARGUMENT"
    resp = await client.get("/v1beta/models/gemini-2.5-pro")
    assert (await resp.json())["name"] == "models/gemini-2.5-pro"


async def test_sdk_against_routes(aiohttp_client: Any) -> None:
    from google import genai
    from google.genai import errors

    server = await aiohttp_client(_app())
    base = str(server.make_url("/")).rstrip("/")
    client = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=base, api_version="v1beta"))
    resp = await client.aio.models.generate_content(model="gemini-2.5-flash", contents="Hello")
    assert resp.text == "Hi there" and resp.usage_metadata.total_token_count == 17
    pieces = [
        c.text async for c in await client.aio.models.generate_content_stream(model="gemini-2.5-flash", contents="Hi")
    ]
    assert "".join(p or "" for p in pieces) == "Hi there"
    count = await client.aio.models.count_tokens(model="gemini-2.5-flash", contents="Hello")
    assert count.total_tokens and count.total_tokens > 0
    emb = await client.aio.models.embed_content(model="text-embedding-004", contents=["a", "b"])
    assert emb.embeddings and len(emb.embeddings) == 2 and len(emb.embeddings[0].values or []) == 768
    model = await client.aio.models.get(model="gemini-2.5-flash")
    assert model.name == "models/gemini-2.5-flash"
    names = [m.name async for m in await client.aio.models.list(config={"page_size": 4})]
    assert len(names) == len(set(names)) > 4
    with pytest.raises(errors.ClientError) as exc:
        await client.aio.models.generate_content(
            model="gemini-2.5-flash", contents="x", config=types.GenerateContentConfig(max_output_tokens=-1)
        )
    assert exc.value.code == 400 and "maxOutputTokens" in str(exc.value.message)
