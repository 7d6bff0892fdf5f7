"""Vertex AI express mode: google-genai with ``vertexai=True`` and an API key calls
``/v1beta1/publishers/google/models/{model}:…`` (no project or location) with ``x-goog-api-key``; it was a 404."""

from __future__ import annotations

import httpx
import pytest
from google.genai import errors

from llmreplay.server import BackgroundServer

from .cloud_secrets import VERTEX_API_KEY, gemini_client

pytestmark = pytest.mark.sdk


def test_express_mode_generates_streams_counts_and_embeds(server: BackgroundServer) -> None:
    c = gemini_client(server.url, {"x-llmreplay-test-id": "vertex-express"}, express=True)
    assert c.models.generate_content(model="gemini-2.5-flash", contents="Hello").text
    assert "".join(x.text or "" for x in c.models.generate_content_stream(model="gemini-2.5-flash", contents="Hi"))
    assert c.models.count_tokens(model="gemini-2.5-flash", contents="Hello").total_tokens
    assert c.models.embed_content(model="text-embedding-005", contents="Hello").embeddings[0].values
    rows = httpx.get(server.url + "/api/requests", params={"test_id": "vertex-express"}).json()
    assert [r["endpoint"] for r in rows] == ["vertex-gemini"] * 3 + ["embeddings"]
    assert all(r["path"].startswith("/v1beta1/publishers/google/models/") for r in rows)
    assert VERTEX_API_KEY not in httpx.get(f"{server.url}/api/requests/{rows[0]['id']}").text


def test_express_modes_429_is_vertexs(server: BackgroundServer) -> None:
    c = gemini_client(server.url, {"x-llmreplay-status": "429"}, express=True)
    with pytest.raises(errors.ClientError) as caught:
        c.models.generate_content(model="gemini-2.5-flash", contents="Hello")
    assert caught.value.message.startswith("Resource exhausted.") and "details" not in caught.value.details["error"]
