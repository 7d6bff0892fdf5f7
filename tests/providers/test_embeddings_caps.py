"""Embedding sizes are capped (issue 19, case 9).

``dimensions: 10000000`` on a model llmreplay does not know was a 230 MB reply (RSS 91 → 414 MiB, kept), and
5e7 a crash inside orjson under a memory limit. Now a model's own size caps its ``dimensions``, any other
model's is capped at ``MAX_DIMENSIONS``, and a whole reply at ``MAX_VALUES`` numbers; beyond, the provider's 400.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from llmreplay.errors import ApiError
from llmreplay.model import Call
from llmreplay.providers.base import RenderOptions
from llmreplay.providers.openai_embeddings import MAX_DIMENSIONS, MAX_VALUES, embeddings
from llmreplay.server import BackgroundServer


def vectors(**fields: Any) -> list[list[float]] | ApiError:
    body = {"model": "my-embedder", "input": "hi", **fields}
    try:
        answer = embeddings(Call("POST", "/v1/embeddings", body=json.dumps(body).encode()), RenderOptions())
    except ApiError as exc:
        return exc
    return [d["embedding"] for d in json.loads(answer.body)["data"]]


def test_dimensions_up_to_the_cap_are_served() -> None:
    out = vectors(dimensions=MAX_DIMENSIONS)
    assert isinstance(out, list) and len(out[0]) == MAX_DIMENSIONS == 8192
    assert MAX_VALUES == 2048 * 3072  # the largest batch the real API answers: text-embedding-3-large's


@pytest.mark.parametrize(
    ("fields", "says"),
    [
        ({"dimensions": 10_000_000}, "at most 8192, got 10000000"),
        ({"dimensions": MAX_DIMENSIONS + 1}, "at most 8192"),
        ({"model": "text-embedding-3-small", "dimensions": 1537}, "dimensions above 1536"),
        ({"input": ["hi"] * 2048, "dimensions": 4096}, "at most 6291456 in one request"),
    ],
)
def test_over_a_cap_is_the_providers_400(fields: dict[str, Any], says: str) -> None:
    err = vectors(**fields)
    assert isinstance(err, ApiError) and err.param == "dimensions" and says in err.message


@pytest.mark.sdk
def test_the_sdks_get_a_bad_request(server: BackgroundServer) -> None:
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key="sk-test", max_retries=0)
    with pytest.raises(openai.BadRequestError) as caught:
        client.embeddings.create(model="my-embedder", input="hi", dimensions=10_000_000)
    assert caught.value.param == "dimensions"
    done = client.embeddings.create(model="my-embedder", input="hi", dimensions=MAX_DIMENSIONS)
    assert len(done.data[0].embedding) == MAX_DIMENSIONS
    # The reply stays within its bound: 8192 float32s, base64-encoded by the SDK's default.
    raw = httpx.post(f"{server.url}/v1/embeddings", json={"model": "m", "input": "hi", "dimensions": MAX_DIMENSIONS})
    assert raw.status_code == 200 and len(raw.content) < 250_000

    gemini = genai.Client(api_key="k", http_options=types.HttpOptions(base_url=server.url))
    with pytest.raises(genai_errors.ClientError) as refused:
        gemini.models.embed_content(
            model="my-embedder", contents="hi", config=types.EmbedContentConfig(output_dimensionality=10_000_000)
        )
    assert refused.value.code == 400 and "outputDimensionality" in str(refused.value.message)
