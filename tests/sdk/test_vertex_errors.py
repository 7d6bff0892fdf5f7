"""Vertex AI's own 429 (issue 22): for Gemini models, Google's envelope with Vertex's words and no details (the
Gemini API's QuotaFailure and Help name its own quotas and pages); for Claude models, Vertex's quota answers in
Google's envelope, not Anthropic's, and AnthropicVertex raises RateLimitError from it all the same. Other errors
keep the envelope they had: Google's for Gemini, Anthropic's for Claude. The bodies are those Vertex AI sends
(errors-and-limits.md in the shared reference; users' reports of the live service)."""

from __future__ import annotations

import anthropic
import pytest
from google.genai import errors

from llmreplay.server import BackgroundServer

from .cloud_secrets import CLIENTS

pytestmark = pytest.mark.sdk

GEMINI_429 = {
    "code": 429,
    "message": "Resource exhausted. Please try again later. Please refer to "
    "https://cloud.google.com/vertex-ai/generative-ai/docs/error-code-429 for more details.",
    "status": "RESOURCE_EXHAUSTED",
}
CLAUDE_429 = {
    "code": 429,
    "message": "Quota exceeded for aiplatform.googleapis.com/online_prediction_requests_per_base_model with base "
    "model: anthropic-claude-sonnet-4-5. Please submit a quota increase request. "
    "https://cloud.google.com/vertex-ai/docs/generative-ai/quotas-genai.",
    "status": "RESOURCE_EXHAUSTED",
}


def fail(server: BackgroundServer, client: str, status: str, stream: bool) -> None:
    ask, _ = CLIENTS[client]
    ask(server.url, "Hello", stream, {"x-llmreplay-status": status})


@pytest.mark.parametrize("stream", [False, True])
def test_gemini_on_vertex_is_refused_in_vertexs_words(server: BackgroundServer, stream: bool) -> None:
    with pytest.raises(errors.ClientError) as caught:
        fail(server, "vertex-gemini", "429", stream)
    err = caught.value
    assert (err.code, err.status, err.message) == (429, "RESOURCE_EXHAUSTED", GEMINI_429["message"])
    assert err.details == {"error": GEMINI_429}  # no QuotaFailure, Help or RetryInfo


@pytest.mark.parametrize("stream", [False, True])
def test_claude_on_vertex_is_refused_by_vertexs_quota(server: BackgroundServer, stream: bool) -> None:
    with pytest.raises(anthropic.RateLimitError) as caught:
        fail(server, "vertex-claude", "429", stream)
    err = caught.value
    assert err.body == {"error": CLAUDE_429}
    assert err.type is None  # Google's envelope names no Anthropic error type
    assert str(err).startswith(f"429 {CLAUDE_429['message']} (path: /v1/projects/")


def test_other_errors_keep_their_envelopes(server: BackgroundServer) -> None:
    with pytest.raises(errors.ServerError) as gemini:
        fail(server, "vertex-gemini", "500", False)
    assert gemini.value.status == "INTERNAL"
    with pytest.raises(anthropic.InternalServerError) as claude:
        fail(server, "vertex-claude", "500", False)
    assert claude.value.type == "api_error"
    with pytest.raises(anthropic.BadRequestError) as bad:
        CLIENTS["vertex-claude"][1](server.url)
    assert bad.value.type == "invalid_request_error"
