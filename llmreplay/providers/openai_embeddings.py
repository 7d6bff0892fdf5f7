"""OpenAI ``POST /v1/embeddings``: deterministic vectors derived from the input alone.

The Python SDK asks for ``encoding_format: "base64"`` when its caller chose none and
decodes little-endian float32 bytes, so both encodings must carry the same numbers.
"""

from __future__ import annotations

from typing import Any, Literal

import pydantic

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Answer, Call
from llmreplay.providers import openai_chat
from llmreplay.providers.base import Body, RenderOptions, Route, json_answer, validate
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
    dims = MODEL_DIMENSIONS.get(body.model, DEFAULT_DIMENSIONS)
    if body.dimensions is not None:
        if body.dimensions > dims and body.model in MODEL_DIMENSIONS:
            raise ApiError(
                ErrorKind.INVALID_REQUEST,
                f"This model does not support specifying dimensions above {dims}.",
                param="dimensions",
            )
        dims = body.dimensions
    data: list[dict[str, Any]] = []
    for i, text in enumerate(texts):
        values = vector(text, dims)
        encoded: Any = to_base64(values) if body.encoding_format == "base64" else values
        data.append({"object": "embedding", "index": i, "embedding": encoded})
    tokens = sum(count(t) for t in texts)
    out = {
        "object": "list",
        "data": data,
        "model": body.model,
        "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
    }
    return json_answer(200, out, base_headers(opts))


ROUTES = [Route("POST", "/v1/embeddings", "embeddings", openai_chat.CODEC, op=embeddings)]
