"""Gemini's ``:countTokens``, ``:embedContent`` and ``:batchEmbedContents``.

countTokens reports exactly the ``promptTokenCount`` a generateContent of the same
request would; embeddings are deterministic unit vectors of the joined text.
"""

from __future__ import annotations

from typing import Any

import pydantic
from pydantic import Field

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Answer, Call
from llmreplay.providers.base import Body, RenderOptions
from llmreplay.providers.gemini_render import json_body
from llmreplay.providers.gemini_request import ContentParam, invalid, load_body, model_name, parse_count_tokens
from llmreplay.synth import embeddings
from llmreplay.synth.tokens import prompt_tokens

_DIMENSIONS = {"text-embedding-004": 768, "embedding-001": 768, "gemini-embedding-001": 3072}
DEFAULT_DIMENSIONS = 768
MAX_DIMENSIONS = 3072


def count_tokens(call: Call, opts: RenderOptions) -> Answer:
    n = prompt_tokens(parse_count_tokens(call))
    return json_body(200, {"totalTokens": n, "promptTokensDetails": [{"modality": "TEXT", "tokenCount": n}]})


class EmbedContentBody(Body):
    model: str | None = None
    content: ContentParam
    taskType: str | None = None
    title: str | None = None
    outputDimensionality: int | None = Field(default=None, ge=1, le=MAX_DIMENSIONS)


class BatchEmbedBody(Body):
    requests: list[EmbedContentBody] = Field(min_length=1, max_length=250)


def _embedding(req: EmbedContentBody, path_model: str) -> dict[str, Any]:
    model = (req.model or path_model).removeprefix("models/")
    dims = req.outputDimensionality or _DIMENSIONS.get(model, DEFAULT_DIMENSIONS)
    text = "".join(p.text or "" for p in req.content.parts)
    return {"values": embeddings.vector(text, dims)}


def validate_fields(model: type[pydantic.BaseModel], data: dict[str, Any]) -> Any:
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        field = ".".join(str(x) for x in err["loc"]) or "body"
        if err["type"] == "missing":
            raise ApiError(ErrorKind.INVALID_REQUEST, f"* {field}: required field", param=field) from None
        raise invalid(field, str(err["msg"])) from None


def embed_content(call: Call, opts: RenderOptions) -> Answer:
    body = validate_fields(EmbedContentBody, load_body(call))
    return json_body(200, {"embedding": _embedding(body, model_name(call))})


def batch_embed_contents(call: Call, opts: RenderOptions) -> Answer:
    body = validate_fields(BatchEmbedBody, load_body(call))
    path_model = model_name(call)
    for i, r in enumerate(body.requests):
        if r.model is not None and r.model.removeprefix("models/") != path_model:
            raise invalid(
                f"requests[{i}].model",
                f"Model '{r.model}' does not match the model in the URL 'models/{path_model}'.",
            )
    return json_body(200, {"embeddings": [_embedding(r, path_model) for r in body.requests]})
