"""``/v1/completions`` caps the choices a request can ask for (issue 19, case 6).

``n`` multiplies the prompt list: ``["x"] * 2000`` with ``n: 128`` was 256,000 choices, 13.7 s of the event
loop and 36 MB. Over a cap it is the provider's 400 naming the parameter, before anything is generated.
"""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Call, Candidate, Reply, Text, Usage
from llmreplay.providers.base import RenderOptions
from llmreplay.providers.openai_completions import (
    CODEC,
    MAX_CHOICES,
    MAX_ECHO_CHARS,
    MAX_PROMPTS,
    render_body,
)
from llmreplay.server import BackgroundServer

MODEL = "gpt-3.5-turbo-instruct"


def parse(**fields: Any) -> ApiError | int:
    """The request's choice count, or the error it is refused with."""
    body = {"model": MODEL, **fields}
    try:
        return CODEC.parse_request(Call("POST", "/v1/completions", body=json.dumps(body).encode())).n
    except ApiError as exc:
        return exc


def test_choices_up_to_the_cap_are_served() -> None:
    assert parse(prompt=["x"] * 16, n=128) == MAX_CHOICES == 2048
    assert parse(prompt=["x"] * MAX_PROMPTS) == MAX_PROMPTS == 2048
    assert parse(prompt="x" * (MAX_ECHO_CHARS // 2), n=2, echo=True) == 2


@pytest.mark.parametrize(
    ("fields", "param", "says"),
    [
        ({"prompt": ["x"] * 2000, "n": 128}, "n", "at most 2048 in all"),
        ({"prompt": ["x"] * 17, "n": 128}, "n", "2176"),
        ({"prompt": ["x"] * (MAX_PROMPTS + 1)}, "prompt", "maximum batch size is 2048, got 2049"),
        ({"prompt": [[1, 2]] * (MAX_PROMPTS + 1)}, "prompt", "maximum batch size"),
        ({"prompt": "x" * 100_000, "n": 16, "echo": True}, "echo", "at most 50000"),
    ],
)
def test_over_a_cap_is_the_providers_400(fields: dict[str, Any], param: str, says: str) -> None:
    err = parse(**fields)
    assert (
        isinstance(err, ApiError)
        and err.kind is ErrorKind.INVALID_REQUEST
        and err.param == param
        and says in err.message
    )


def test_a_long_echo_with_logprobs_is_linear() -> None:
    """Each chunk's logprobs were added to new lists: quadratic in the echoed prompt (100 KB: ~3 s)."""
    request = CODEC.parse_request(
        Call(
            "POST",
            "/v1/completions",
            body=json.dumps({"model": MODEL, "prompt": "ab " * 16_000, "echo": True, "logprobs": 2}).encode(),
        )
    )
    reply = Reply("x", MODEL, 1, (Candidate((Text("done"),)),), Usage(1, 1))
    body = render_body(reply, request, RenderOptions(chunk_size=1))
    logprobs = body["choices"][0]["logprobs"]
    assert "".join(logprobs["tokens"]) == body["choices"][0]["text"] == "ab " * 16_000 + "done"
    offsets = [sum(map(len, logprobs["tokens"][:i])) for i in range(0, len(logprobs["tokens"]), 1000)]
    assert logprobs["text_offset"][::1000] == offsets
    assert len(logprobs["text_offset"]) == len(logprobs["token_logprobs"]) == len(logprobs["tokens"])


@pytest.mark.sdk
def test_the_sdk_gets_a_bad_request_at_once(server: BackgroundServer) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="sk-test", max_retries=0, timeout=30)
    with pytest.raises(openai.BadRequestError) as caught:
        client.completions.create(model=MODEL, prompt=["x"] * 2000, n=128)
    assert caught.value.status_code == 400 and caught.value.param == "n"
    assert "at most 2048 in all" in caught.value.message
    done = client.completions.create(model=MODEL, prompt=["x"] * 16, n=128)
    assert len(done.choices) == MAX_CHOICES
    assert sorted(c.index for c in done.choices) == list(range(MAX_CHOICES))
