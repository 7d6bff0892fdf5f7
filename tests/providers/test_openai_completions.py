"""The legacy OpenAI Completions codec: requests, bodies, streams and SDK types."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
from openai.types import Completion

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Call, Candidate, Finish, Reply, Request, Text, Usage
from llmreplay.providers.base import RenderOptions
from llmreplay.providers.openai_completions import CODEC, DEFAULT_MAX_TOKENS, ROUTES

OPTS = RenderOptions(chunk_size=4, request_id="cd" * 16, seed=1)


def parse(**fields: Any) -> Request:
    body = {"model": "gpt-3.5-turbo-instruct", "prompt": "Say hi", **fields}
    return CODEC.parse_request(Call("POST", "/v1/completions", body=json.dumps(body).encode()))


def reply(*cands: Candidate) -> Reply:
    return Reply("xyz", "gpt-3.5-turbo-instruct", 1700000000, cands, Usage(3, 2))


def chunks(body: bytes) -> list[dict[str, Any]]:
    return [e.data for e in CODEC.parse_events(body) if e.type == "chunk"]


def test_route() -> None:
    assert CODEC.api == "openai-completions" and CODEC.endpoint == "completions"
    assert [(r.method, r.path, r.endpoint, r.codec) for r in ROUTES] == [
        ("POST", "/v1/completions", "completions", CODEC)
    ]


def test_request_defaults_and_options() -> None:
    r = parse()
    assert r.max_tokens == DEFAULT_MAX_TOKENS == 16 and r.n == 1 and not r.stream
    assert [(m.role, m.text) for m in r.messages] == [("user", "Say hi")]
    r = parse(prompt=["a", "b"], n=2, stop="X", logprobs=3, max_tokens=50, stream=True, echo=True, suffix="!")
    assert r.n == 4 and r.stop == ("X",) and r.logprobs and r.top_logprobs == 3 and r.max_tokens == 50
    assert r.stream and [m.text for m in r.messages] == ["a", "b"]
    assert parse(prompt=[1, 2, 3]).messages[0].text == "1 2 3"
    assert parse(stream=True, stream_options={"include_usage": True}).include_usage


@pytest.mark.parametrize(
    ("fields", "param"),
    [({"model": None}, "model"), ({"max_tokens": "x"}, "max_tokens"), ({"logprobs": 9}, "logprobs")],
)
def test_bad_requests(fields: dict[str, Any], param: str) -> None:
    with pytest.raises(ApiError) as info:
        parse(**fields)
    assert info.value.kind is ErrorKind.INVALID_REQUEST and info.value.param == param
    answer = CODEC.render_error(info.value, OPTS)
    assert answer.status == 400 and json.loads(answer.body)["error"]["param"] == param


def test_body_shape() -> None:
    r = reply(Candidate((Text("Hello"),)), Candidate((Text("Hey"),), Finish.LENGTH))
    answer = CODEC.render(r, parse(n=2), OPTS)
    assert dict(answer.headers)["content-type"] == "application/json" and answer.steps == 3
    body = json.loads(answer.body)
    assert body == {
        "id": "cmpl-xyz",
        "object": "text_completion",
        "created": 1700000000,
        "model": "gpt-3.5-turbo-instruct",
        "choices": [
            {"text": "Hello", "index": 0, "logprobs": None, "finish_reason": "stop"},
            {"text": "Hey", "index": 1, "logprobs": None, "finish_reason": "length"},
        ],
        "usage": {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5},
    }
    Completion.model_validate(body)
    back = CODEC.body_to_reply(answer.body)
    assert [c.text for c in back.candidates] == ["Hello", "Hey"] and back.usage == r.usage


def test_echo_and_logprobs() -> None:
    body = json.loads(CODEC.render(reply(Candidate((Text(" there"),))), parse(echo=True, logprobs=2), OPTS).body)
    choice = body["choices"][0]
    assert choice["text"] == "Say hi there"
    lp = choice["logprobs"]
    assert "".join(lp["tokens"]) == "Say hi there"
    assert lp["text_offset"][0] == 0 and all(len(t) == 2 for t in lp["top_logprobs"])
    Completion.model_validate(body)


def test_stream() -> None:
    r = reply(Candidate((Text("Hello world"),)))
    req = parse(stream=True, stream_options={"include_usage": True}, logprobs=1)
    answer = CODEC.render(r, req, OPTS)
    assert answer.stream and answer.body.endswith(b"data: [DONE]\n\n")
    cs = chunks(answer.body)
    assert "".join(c["choices"][0]["text"] for c in cs if c["choices"]) == "Hello world"
    assert cs[-2]["choices"][0]["finish_reason"] == "stop" and cs[-1]["choices"] == []
    assert cs[-1]["usage"]["total_tokens"] == 5 and all(c["usage"] is None for c in cs[:-1])
    assert all(c["object"] == "text_completion" and c["id"] == "cmpl-xyz" for c in cs)
    # Mid-stream chunks carry finish_reason null, which the SDK reads without validating (as the real API sends).
    Completion.model_validate(cs[-2])
    Completion.model_validate(cs[-1])
    assert [f.paced for f in answer.frames] == [True, True, True, False, False, False]
    events = CODEC.parse_events(answer.body)
    assert CODEC.encode_events(events) == answer.body
    back = CODEC.events_to_reply(events)
    assert back.candidates[0].text == "Hello world" and back.usage == r.usage
    # Streamed logprobs are the body's, piece for piece.
    whole = json.loads(CODEC.render(r, dataclasses.replace(req, stream=False), OPTS).body)
    streamed = [
        t for c in cs if c["choices"] and c["choices"][0]["logprobs"] for t in c["choices"][0]["logprobs"]["tokens"]
    ]
    assert streamed == whole["choices"][0]["logprobs"]["tokens"]


def test_stream_without_usage() -> None:
    cs = chunks(CODEC.render(reply(Candidate((Text("Hi"),))), parse(stream=True), OPTS).body)
    assert all("usage" not in c for c in cs)


def test_in_stream_error() -> None:
    data = CODEC.in_stream_error(ApiError(ErrorKind.RATE_LIMIT, "slow down"), OPTS)
    assert data is not None and json.loads(data[6:])["error"]["code"] == "rate_limit_exceeded"
