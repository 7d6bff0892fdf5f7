"""The built-in routes of every provider API, listed explicitly, and provider guessing.

No module registers itself on import: the list below is the whole API surface.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Answer, Call
from llmreplay.providers import (
    anthropic_messages,
    anthropic_models,
    gemini,
    openai_chat,
    openai_completions,
    openai_embeddings,
    openai_models,
    openai_responses,
)
from llmreplay.providers.base import Codec, RenderOptions, Route


def _is_anthropic(headers: Mapping[str, str]) -> bool:
    return "anthropic-version" in headers or "x-api-key" in headers


def _is_gemini(call: Call) -> bool:
    return "x-goog-api-key" in call.headers or "key" in call.query or call.path.startswith(("/v1beta", "/v1alpha"))


def guess_codec(call: Call) -> Codec:
    """The codec whose error envelope a call on an unknown path should get."""
    if _is_gemini(call) or ":" in call.path.rsplit("/", 1)[-1]:
        return gemini.CODEC
    if _is_anthropic(call.headers):
        return anthropic_messages.CODEC
    return openai_chat.CODEC


def _models_codec(call: Call) -> tuple[Codec, Callable[[Call, RenderOptions], Answer], Callable[..., Answer]]:
    if _is_gemini(call):
        return gemini.CODEC, gemini.list_models, gemini.get_model
    if _is_anthropic(call.headers):
        return anthropic_messages.CODEC, anthropic_models.list_models, anthropic_models.get_model
    return openai_chat.CODEC, openai_models.list_models, openai_models.get_model


def list_models(call: Call, opts: RenderOptions) -> Answer:
    """``GET /v1/models``: OpenAI's, Anthropic's or Gemini's shape (and error envelope), by the caller's headers."""
    codec, op, _ = _models_codec(call)
    try:
        return op(call, opts)
    except ApiError as err:
        return codec.render_error(err, opts)


def get_model(call: Call, opts: RenderOptions) -> Answer:
    """``GET /v1/models/{model}`` in the caller's provider's shape."""
    codec, _, op = _models_codec(call)
    try:
        return op(call, opts)
    except ApiError as err:
        return codec.render_error(err, opts)


def routes() -> list[Route]:
    """Every built-in route; duplicates (same method and path) are rejected."""
    shared = [
        Route("GET", "/v1/models", "models", openai_chat.CODEC, op=list_models),
        Route("GET", "/v1/models/{model:[^/:]+}", "models", openai_chat.CODEC, op=get_model),
    ]
    table = [
        *openai_chat.ROUTES,
        *openai_responses.ROUTES,
        *openai_completions.ROUTES,
        *openai_embeddings.ROUTES,
        *anthropic_messages.ROUTES,
        *gemini.ROUTES,
        *shared,
    ]
    seen: set[tuple[str, str]] = set()
    for r in table:
        key = (r.method, r.path)
        if key in seen:
            raise ValueError(f"duplicate route {r.method} {r.path}")
        seen.add(key)
    return table


def not_found(call: Call) -> ApiError:
    return ApiError(ErrorKind.NOT_FOUND, f"Unknown request URL: {call.method} {call.path}. Please check the URL.")
