"""Vertex AI recorded through llmreplay (llmreplay itself playing Google), then replayed: the same answers, byte
for byte, and the bearer token in no cassette."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anthropic
import httpx
import pytest
from google import genai
from google.genai import types
from google.oauth2.credentials import Credentials

from llmreplay.sources.upstreams import resolve_upstream
from tests.e2e.common import only_cassette, recorder, replayer, upstream_server

pytestmark = pytest.mark.sdk

TOKEN = "ya29." + "LLMREPLAYsecretVERTEXtoken0123456789"
USER: list[Any] = [{"role": "user", "content": "Hello from a recording"}]
PREFIX = "/v1/projects/p/locations/us-east5/publishers"


def gemini_calls(url: str) -> list[Any]:
    c = genai.Client(
        vertexai=True,
        project="p",
        location="us-east5",
        credentials=Credentials(token=TOKEN),
        http_options=types.HttpOptions(base_url=url),
    )
    whole = c.models.generate_content(model="gemini-2.5-flash", contents="Hello from a recording")
    chunks = list(c.models.generate_content_stream(model="gemini-2.5-flash", contents="Hello from a recording"))
    return [r.model_dump(mode="json", exclude={"sdk_http_response"}) for r in (whole, *chunks)]


def claude_calls(url: str) -> list[Any]:
    c = anthropic.AnthropicVertex(region="us-east5", project_id="p", access_token=TOKEN, base_url=url + "/v1")
    whole = c.messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=USER)
    events = list(c.messages.create(model="claude-sonnet-4-5", max_tokens=100, messages=USER, stream=True))
    return [m.model_dump(mode="json") for m in (whole, *events)]


def raw_streams(url: str) -> list[bytes]:
    headers = {"authorization": f"Bearer {TOKEN}"}
    gemini = f"{PREFIX}/google/models/gemini-2.5-flash:streamGenerateContent"
    claude = f"{PREFIX}/anthropic/models/claude-sonnet-4-5:streamRawPredict"
    bodies = [
        (gemini + "?alt=sse", {"contents": [{"role": "user", "parts": [{"text": "raw"}]}]}),
        (claude, {"anthropic_version": "vertex-2023-10-16", "max_tokens": 50, "messages": USER, "stream": True}),
    ]
    return [httpx.post(url + path, json=body, headers=headers, timeout=20).content for path, body in bodies]


def test_record_then_replay(tmp_path: Path) -> None:
    with upstream_server() as up, recorder(tmp_path, up.url) as rec:
        live = (gemini_calls(rec.url), claude_calls(rec.url), raw_streams(rec.url))
    recorded = only_cassette(tmp_path)
    assert {it.endpoint for it in recorded} == {"vertex-gemini", "vertex-anthropic-messages"}
    assert {it.api for it in recorded} == {"gemini", "vertex-anthropic"}
    for path in tmp_path.iterdir():
        assert TOKEN.encode() not in path.read_bytes()
    with replayer(tmp_path, speed=0) as rp:
        again = (gemini_calls(rp.url), claude_calls(rp.url), raw_streams(rp.url))
        journal = json.dumps(httpx.get(rp.url + "/api/requests").json())
    assert again == live
    assert TOKEN not in journal


def test_vertex_upstream_by_location() -> None:
    assert resolve_upstream("vertex:my-project/us-central1") == "https://us-central1-aiplatform.googleapis.com"
    assert resolve_upstream("vertex:europe-west4") == "https://europe-west4-aiplatform.googleapis.com"
    assert resolve_upstream("Vertex:my-project/global") == "https://aiplatform.googleapis.com"
    with pytest.raises(ValueError, match="vertex:"):
        resolve_upstream("vertex:my-project/not a place")
