"""The built-in routes and codecs of every provider API, listed explicitly; provider guessing; the wire facts
the rest of the server asks about (credentials, stream paths, volatile fields), gathered from the codecs.

No module registers itself on import: the lists below are the whole API surface. Code outside
``providers/`` asks these functions and tables, never a provider by name.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterable, Mapping
from functools import cache

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Answer, Call
from llmreplay.providers import (
    anthropic_messages,
    anthropic_models,
    azure,
    bedrock_converse,
    bedrock_invoke,
    gemini,
    openai_chat,
    openai_completions,
    openai_embeddings,
    openai_models,
    openai_responses,
    openai_responses_background,
    openai_responses_store,
    vertex,
    vertex_anthropic,
)
from llmreplay.providers.base import Codec, RenderOptions, Route

CODECS: tuple[Codec, ...] = (
    openai_chat.CODEC,
    openai_responses.CODEC,
    openai_completions.CODEC,
    anthropic_messages.CODEC,
    gemini.CODEC,
    bedrock_converse.CODEC,
    bedrock_invoke.CODEC,
    vertex_anthropic.CODEC,
)
"""Every generation codec; the order is the order of the gathered facts below."""


def _gather(values: Iterable[Iterable[str]]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(v for vs in values for v in vs))


CREDENTIAL_HEADERS: tuple[str, ...] = _gather(c.credential_headers for c in CODECS)
"""Every header that carries an API key: quotas digest the first one present, cassettes scrub them all."""
CREDENTIAL_QUERY: tuple[str, ...] = _gather(c.credential_query for c in CODECS)
"""Every query parameter that carries an API key."""
ACCOUNT_HEADERS: tuple[str, ...] = _gather(c.account_headers for c in CODECS)
"""Headers naming an organisation or project: scrubbed from cassettes with the credentials."""
VOLATILE_FIELDS: tuple[str, ...] = _gather(c.volatile_fields for c in CODECS)
"""Body fields that tag a request without changing the answer: left out of match keys by default."""
FRAMING_QUERY: frozenset[str] = frozenset(_gather(c.framing_query for c in CODECS))
"""Query parameters that only choose a stream's framing: left out of match keys unless streams are keyed."""
_STREAM_PATHS: dict[str, str] = {k: v for c in CODECS for k, v in c.stream_paths.items()}
_STREAM_ENDINGS = tuple(_STREAM_PATHS)


def api_key_of(headers: Mapping[str, str], query: Mapping[str, str]) -> str:
    """A short digest of the caller's credential (the key itself is never kept), for per-key quotas; the
    credential headers and query parameters are the codecs'.

    aiohttp decodes header bytes that are not UTF-8 as lone surrogates (``surrogateescape``): they are
    encoded back the same way, so such a key is digested from the very bytes the client sent."""
    for name in CREDENTIAL_HEADERS:
        value = headers.get(name)
        if value:
            return _digest(_SIGV4_KEY.sub(r"\1", value.removeprefix("Bearer ")))
    for name in CREDENTIAL_QUERY:
        value = query.get(name)
        if value:
            return _digest(value)
    return "anonymous"


# A SigV4 signature changes with every request: the access key id it names is the caller's key.
_SIGV4_KEY = re.compile(r"^AWS4-HMAC-SHA256 Credential=([^/,\s]+).*", re.DOTALL)


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def streams_by_path(path: str) -> bool:
    """Whether the path alone asks for a stream (the body cannot say so)."""
    return path.endswith(_STREAM_ENDINGS) if _STREAM_ENDINGS else False


def stream_neutral_path(path: str) -> str:
    """The path as a plain (non-stream) call of the same operation would have it."""
    for stream, plain in _STREAM_PATHS.items():
        if stream in path:
            path = path.replace(stream, plain)
    return path


def codec_of(api: str | None) -> Codec | None:
    """The generation codec named ``api`` (``Interaction.api``), if there is one."""
    return next((c for c in CODECS if c.api == api), None)


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
        *openai_responses_store.ROUTES,
        *openai_responses_background.ROUTES,
        *azure.ROUTES,
        *openai_completions.ROUTES,
        *openai_embeddings.ROUTES,
        *anthropic_messages.ROUTES,
        *gemini.ROUTES,
        *bedrock_converse.ROUTES,
        *bedrock_invoke.ROUTES,
        *vertex.ROUTES,
        *vertex_anthropic.ROUTES,
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


# ---- routes by path ----------------------------------------------------------------------------


def pattern_regex(path: str) -> re.Pattern[str]:
    """An aiohttp path pattern (``/v1beta/models/{model:[^/:]+}:generateContent``) as a full-match regex."""
    out: list[str] = []
    pos = 0
    for m in re.finditer(r"\{(\w+)(?::((?:[^{}]|\{[^{}]*\})+))?\}", path):
        out.append(re.escape(path[pos : m.start()]))
        out.append(f"(?P<{m.group(1)}>{m.group(2) or '[^/]+'})")
        pos = m.end()
    out.append(re.escape(path[pos:]))
    return re.compile("".join(out))


@cache
def _compiled() -> tuple[tuple[Route, re.Pattern[str]], ...]:
    return tuple((r, pattern_regex(r.path)) for r in routes())


def match_route(method: str, path: str) -> tuple[Route, dict[str, str]] | None:
    """The built-in route serving ``method path`` (or the route a codec says the path stands for, e.g. a Vertex AI
    path for Gemini's), with its captured parameters."""
    for route, rx in _compiled():
        if route.method == method.upper():
            m = rx.fullmatch(path)
            if m is not None:
                return route, m.groupdict()
    for codec in CODECS:
        alias = codec.path_alias(path)
        if alias is not None and alias != path:
            found = match_route(method, alias)
            if found is not None:
                return found
    return None
