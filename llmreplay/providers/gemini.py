"""The Google Gemini API (Generative Language): generateContent, streaming, tokens, embeddings, models.

Requests are parsed in :mod:`gemini_request`, response objects and errors live in
:mod:`gemini_render`, streams in :mod:`gemini_stream`, the simple operations in
:mod:`gemini_ops` and :mod:`gemini_models`; this module holds the codec and routes.
Every path exists under ``v1beta``, ``v1`` and ``v1alpha``. The API key
(``x-goog-api-key`` or ``?key=``) is never required and never echoed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import ClassVar

from llmreplay.errors import ApiError
from llmreplay.model import Answer, Call, Frame, Reply, Request
from llmreplay.providers import gemini_render, gemini_request, gemini_stream
from llmreplay.providers.base import Codec, RenderOptions, Route, StreamEvent, content_steps
from llmreplay.providers.gemini_models import get_model, list_models
from llmreplay.providers.gemini_ops import batch_embed_contents, count_tokens, embed_content

VERSIONS = ("v1beta", "v1", "v1alpha")
_VERTEX = re.compile(r"/v1\w*/projects/[^/]+/locations/[^/]+/publishers/google/models/(?P<model>[^/:]+)(?P<op>:\w+)")
MODEL = "{model:[^/:]+}"


class GeminiCodec(Codec):
    """``generateContent`` / ``streamGenerateContent`` in both stream framings."""

    api = "gemini"
    endpoint = "gemini"
    credential_headers = ("x-goog-api-key",)
    credential_query = ("key",)
    # The path, not the body, asks for a stream; ``alt=sse`` only picks SSE over a JSON array.
    stream_paths: ClassVar[Mapping[str, str]] = {":streamGenerateContent": ":generateContent"}
    framing_query = frozenset({"alt"})
    # The model is in the path. REST takes both spellings of a field; the SDK sends camelCase.
    significant_fields = (
        "contents",
        "systemInstruction",
        "system_instruction",
        "tools",
        "toolConfig",
        "tool_config",
        "generationConfig",
        "generation_config",
        "safetySettings",
        "safety_settings",
        "cachedContent",
        "cached_content",
    )

    def same_framing(self, recorded_query: Sequence[tuple[str, str]], request: Request) -> bool:
        recorded_sse = ("alt", "sse") in recorded_query
        return recorded_sse == bool(request.wire.get("sse", True))

    def path_alias(self, path: str) -> str | None:
        # Vertex AI speaks this wire format under a longer path; no route serves it, but its bodies parse alike.
        m = _VERTEX.fullmatch(path)
        return None if m is None else f"/v1beta/models/{m['model']}{m['op']}"

    def parse_request(self, call: Call) -> Request:
        return gemini_request.parse_generate(call)

    def render(self, reply: Reply, request: Request, opts: RenderOptions) -> Answer:
        if not request.stream:
            body = gemini_render.json_body(200, gemini_render.render_response(reply, request, opts))
            return Answer(body.status, body.headers, body.frames, steps=content_steps(reply, opts.chunk_size))
        frames = gemini_stream.render_frames(reply, request, opts)
        return Answer(200, gemini_stream.stream_headers(request), frames, stream=True)

    def render_error(self, error: ApiError, opts: RenderOptions) -> Answer:
        return gemini_render.render_error(error, opts)

    def in_stream_error(self, error: ApiError, opts: RenderOptions, sent: Sequence[Frame] = ()) -> bytes | None:
        return gemini_stream.error_event(gemini_render.error_object(error))

    def parse_events(self, body: bytes) -> list[StreamEvent]:
        return gemini_stream.parse_events(body)

    def encode_events(self, events: list[StreamEvent]) -> bytes:
        return gemini_stream.encode_events(events)

    def events_to_reply(self, events: list[StreamEvent]) -> Reply:
        return gemini_stream.events_to_reply(events)

    def body_to_reply(self, body: bytes) -> Reply:
        return gemini_render.to_reply(json.loads(body))


CODEC = GeminiCodec()


def _routes(ver: str) -> list[Route]:
    base = f"/{ver}/models/{MODEL}"
    # GET /v1/models(/…) is shared with OpenAI and Anthropic: the registry's own routes
    # send Gemini callers (x-goog-api-key or ?key=) to list_models / get_model.
    models = (
        []
        if ver == "v1"
        else [
            Route("GET", f"/{ver}/models", "models", CODEC, op=list_models),
            Route("GET", base, "models", CODEC, op=get_model),
        ]
    )
    # The original server's ids for these two on v1beta and v1 (gemini-generate, gemini-stream-v1 …): configured
    # apart; v1alpha, which it did not serve, is configured as gemini.
    v1 = {"v1beta": "", "v1": "-v1"}.get(ver)
    generate, stream = (None, None) if v1 is None else (f"gemini-generate{v1}", f"gemini-stream{v1}")
    return [
        Route("POST", f"{base}:generateContent", "gemini", CODEC, key=generate),
        Route("POST", f"{base}:streamGenerateContent", "gemini", CODEC, key=stream),
        Route("POST", f"{base}:countTokens", "gemini", CODEC, op=count_tokens),
        Route("POST", f"{base}:embedContent", "embeddings", CODEC, op=embed_content),
        Route("POST", f"{base}:batchEmbedContents", "embeddings", CODEC, op=batch_embed_contents),
        *models,
    ]


ROUTES: list[Route] = [r for ver in VERSIONS for r in _routes(ver)]

__all__ = [
    "CODEC",
    "ROUTES",
    "GeminiCodec",
    "batch_embed_contents",
    "count_tokens",
    "embed_content",
    "get_model",
    "list_models",
]
