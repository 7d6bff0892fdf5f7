"""OpenAI ``POST /v1/embeddings``: deterministic vectors derived from the input alone.

The Python SDK asks for ``encoding_format: "base64"`` when its caller chose none and
decodes little-endian float32 bytes, so both encodings must carry the same numbers.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson
import pydantic

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Answer, Call
from llmreplay.providers import openai_chat
from llmreplay.providers.base import Body, RenderOptions, Route, dumps, json_answer, validate
from llmreplay.providers.openai_common import base_headers
from llmreplay.synth.embeddings import to_base64, vector
from llmreplay.synth.tokens import count

DEFAULT_DIMENSIONS = 1536
MODEL_DIMENSIONS: dict[str, int] = {
    "text-embedding-3-small": 1536,
    "text-embedding-3-large": 3072,
    "text-embedding-ada-002": 1536,
}
MAX_INPUTS = 2048
MAX_DIMENSIONS = 8192
"""Largest ``dimensions`` a model we do not know may ask for (OpenAI's own go up to 3072): 10,000,000 was a
230 MB reply and 320 MiB kept, 5e7 a crash under a memory limit (issue 19, case 9)."""
MAX_VALUES = MAX_INPUTS * MODEL_DIMENSIONS["text-embedding-3-large"]
"""Most numbers in one reply (inputs × dimensions): the largest batch the real API answers, 6,291,456."""

Input = str | list[str] | list[int] | list[list[int]]


class EmbeddingsBody(Body):
    model: str
    input: Input
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: pydantic.PositiveInt | None = None
    user: str | None = None


def _texts(value: Input) -> list[str]:
    """Every input as text; token-id arrays stand for the text of their ids."""
    if isinstance(value, str):
        return [value]
    if not value:
        raise ApiError(ErrorKind.INVALID_REQUEST, "'input' : input must be a non-empty string or array.", param="input")
    if all(isinstance(x, int) for x in value):
        return [" ".join(str(x) for x in value)]
    return [x if isinstance(x, str) else " ".join(str(t) for t in x) for x in value]  # type: ignore[union-attr]


def _dimensions(model: str, asked: int | None) -> int:
    """The vectors' length: the model's own unless ``asked``, which may be no more than the model's (or, for a
    model we do not know, :data:`MAX_DIMENSIONS`)."""
    most = MODEL_DIMENSIONS.get(model)
    if asked is None:
        return most or DEFAULT_DIMENSIONS
    if most is not None and asked > most:
        raise ApiError(
            ErrorKind.INVALID_REQUEST,
            f"This model does not support specifying dimensions above {most}.",
            param="dimensions",
        )
    if asked > MAX_DIMENSIONS:
        raise ApiError(
            ErrorKind.INVALID_REQUEST,
            f"'dimensions' : at most {MAX_DIMENSIONS}, got {asked}.",
            param="dimensions",
        )
    return asked


def embeddings(call: Call, opts: RenderOptions) -> Answer:
    body = validate(EmbeddingsBody, call)
    texts = _texts(body.input)
    if len(texts) > MAX_INPUTS:
        raise ApiError(
            ErrorKind.INVALID_REQUEST,
            f"'input' : maximum batch size is {MAX_INPUTS}, got {len(texts)}.",
            param="input",
        )
    if any(t == "" for t in texts):
        raise ApiError(ErrorKind.INVALID_REQUEST, "'input' : input must not contain empty strings.", param="input")
    dims = _dimensions(body.model, body.dimensions)
    if len(texts) * dims > MAX_VALUES:
        raise ApiError(
            ErrorKind.INVALID_REQUEST,
            f"'dimensions' : {len(texts)} inputs of {dims} dimensions is {len(texts) * dims} numbers; "
            f"at most {MAX_VALUES} in one request.",
            param="dimensions",
        )
    # Each vector is encoded as it is made: the whole list in one orjson call (25 MB at the cap) held the GIL
    # ~20-40 ms, and so the loop, while a worker thread made it (llmreplay.offload, issue 19, case 9); the
    # encoded pieces are then copied in whole.
    data: list[orjson.Fragment] = []
    for i, text in enumerate(texts):
        values = vector(text, dims)
        encoded: Any = to_base64(values) if body.encoding_format == "base64" else values
        data.append(orjson.Fragment(dumps({"object": "embedding", "index": i, "embedding": encoded})))
    tokens = sum(count(t) for t in texts)
    out = {
        "object": "list",
        "data": data,
        "model": body.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return json_answer(200, out, base_headers(opts))


ROUTES = [Route("POST", "/v1/embeddings", "embeddings", openai_chat.CODEC, op=embeddings)]
