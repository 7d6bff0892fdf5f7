"""Claude on Vertex AI: Anthropic's Messages API under Vertex's paths.

``POST /v1/projects/{project}/locations/{location}/publishers/anthropic/models/{model}:rawPredict`` (and
``:streamRawPredict``) take a Messages body whose model is in the path and whose ``anthropic_version``
(``vertex-2023-10-16``) is in the body, where ``/v1/messages`` has them the other way round; the answers, the
event stream and the error envelope are Anthropic's. ``…/models/count-tokens:rawPredict`` counts tokens (the
model back in the body). The bearer token is never checked.

Endpoint name: ``vertex-anthropic-messages`` (Vertex's Anthropic Messages), for configuration, metrics, rules
and the dashboard alike. Rules that name ``api: anthropic-messages`` still apply: the request is parsed as one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import ClassVar

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Answer, Call, Request
from llmreplay.providers import anthropic_messages, gemini_render
from llmreplay.providers.base import RenderOptions, Route, dumps, load_json
from llmreplay.providers.vertex import PUBLISHER_PATH, quota_error

ENDPOINT = "vertex-anthropic-messages"
MODEL = "{model:[^/:]+}"


def _with_model(call: Call) -> Call:
    """The call with the path's model in its body, where the Messages parser looks for it; a body without
    ``anthropic_version`` is refused, as Vertex refuses it."""
    data = load_json(call)
    if not isinstance(data, dict):
        raise ApiError(ErrorKind.INVALID_REQUEST, "The request body must be a JSON object.")
    if not isinstance(data.get("anthropic_version"), str):
        raise ApiError(
            ErrorKind.INVALID_REQUEST,
            "anthropic_version: Field required (Vertex AI takes it in the body, e.g. 'vertex-2023-10-16')",
            param="anthropic_version",
        )
    model = call.params.get("model")
    if model is None:
        return call
    return dataclasses.replace(call, body=dumps({**data, "model": model}))


class VertexAnthropicCodec(anthropic_messages.AnthropicMessagesCodec):
    """Anthropic's Messages codec with the model taken from the path."""

    api = "vertex-anthropic"
    endpoint = ENDPOINT
    stream_paths: ClassVar[Mapping[str, str]] = {":streamRawPredict": ":rawPredict"}
    # A Google credential with a quota project names it here: kept out of cassettes with the token.
    account_headers = ("x-goog-user-project",)
    significant_fields = (*anthropic_messages.AnthropicMessagesCodec.significant_fields, "anthropic_version")

    def parse_request(self, call: Call) -> Request:
        return super().parse_request(_with_model(call))

    def render_error(self, error: ApiError, opts: RenderOptions) -> Answer:
        if error.http_status != 429:
            return super().render_error(error, opts)
        return gemini_render.render_error(quota_error(error, _quota_message(error)), opts)


def _quota_message(error: ApiError) -> str:
    """Vertex AI's words for a per-model quota run out: ``claude-sonnet-4-5@20250929``'s base model is
    ``anthropic-claude-sonnet-4-5``."""
    quota = error.quota
    per_tokens = quota is not None and quota.requests is None and quota.tokens is not None
    metric = (
        "online_prediction_input_tokens_per_minute_per_base_model"
        if per_tokens
        else "online_prediction_requests_per_base_model"
    )
    base = "anthropic-" + (error.model or "claude").split("@", 1)[0]
    return (
        f"Quota exceeded for aiplatform.googleapis.com/{metric} with base model: {base}. "
        "Please submit a quota increase request. https://cloud.google.com/vertex-ai/docs/generative-ai/quotas-genai."
    )


CODEC = VertexAnthropicCodec()


def count_tokens(call: Call, opts: RenderOptions) -> Answer:
    """``count-tokens:rawPredict``: the body names the model, as ``/v1/messages/count_tokens`` has it."""
    _with_model(dataclasses.replace(call, params={}))
    return anthropic_messages.count_tokens(call, opts)


_BASE = f"/v1{PUBLISHER_PATH}/anthropic/models"

ROUTES: list[Route] = [
    # Before the model routes: "count-tokens" would pass for a model name.
    Route("POST", f"{_BASE}/count-tokens:rawPredict", ENDPOINT, CODEC, op=count_tokens),
    Route("POST", f"{_BASE}/{MODEL}:rawPredict", ENDPOINT, CODEC),
    Route("POST", f"{_BASE}/{MODEL}:streamRawPredict", ENDPOINT, CODEC),
]
