"""The app's edges: health, unknown paths, wrong methods, oversized and malformed bodies."""

from __future__ import annotations

import json

import aiohttp
import pytest

from llmreplay.app import create_app

from .conftest import settings


@pytest.fixture
async def client(aiohttp_client):
    return await aiohttp_client(create_app(settings(server={"max_body_mb": 0.01})))


async def test_health(client):
    r = await client.get("/health")
    assert r.status == 200 and (await r.json())["status"] == "ok"


@pytest.mark.parametrize(
    ("path", "headers", "shape"),
    [
        ("/v1/nope", {}, "openai"),
        ("/v1/nope", {"anthropic-version": "2023-06-01"}, "anthropic"),
        ("/v1beta/models/g:nope", {}, "gemini"),
    ],
)
async def test_unknown_path_in_provider_envelope(client, path, headers, shape):
    r = await client.post(path, headers=headers, data=b"{}")
    body = await r.json()
    assert r.status == 404
    if shape == "openai":
        assert set(body["error"]) == {"message", "type", "param", "code"}
    elif shape == "anthropic":
        assert body["type"] == "error" and body["error"]["type"] == "not_found_error"
    else:
        assert body["error"]["status"] == "NOT_FOUND" and body["error"]["code"] == 404


async def test_wrong_method(client):
    r = await client.get("/v1/chat/completions")
    body = await r.json()
    assert r.status == 405 and body["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/v1/chat/completions", {}),
        ("/v1/responses", {}),
        ("/v1/messages", {"anthropic-version": "2023-06-01"}),
        ("/v1beta/models/g:generateContent", {}),
        ("/v1/embeddings", {}),
    ],
)
@pytest.mark.parametrize("body", [b"", b"{", b"[]", b'"text"', b"\xff\xfe", b'{"model": 5}', b"null"])
async def test_malformed_bodies_get_400_in_envelope(client, path, headers, body):
    r = await client.post(path, data=body, headers={"content-type": "application/json", **headers})
    text = await r.text()
    assert r.status == 400, text
    assert "Traceback" not in text
    data = json.loads(text)
    assert "error" in data


async def test_oversized_body_is_413_in_envelope(client):
    big = json.dumps({"model": "m", "messages": [{"role": "user", "content": "x" * 50_000}]})
    r = await client.post("/v1/chat/completions", data=big, headers={"content-type": "application/json"})
    assert r.status == 413
    assert (await r.json())["error"]["message"]


async def test_client_disconnect_mid_stream_is_harmless(aiohttp_server):
    srv = await aiohttp_server(create_app(settings(latency={"delay_ms": 20})))
    body = {"model": "m", "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    async with aiohttp.ClientSession() as s:
        async with s.post(srv.make_url("/v1/chat/completions"), json=body) as r:
            await r.content.readany()
        async with s.get(srv.make_url("/health")) as r:
            assert r.status == 200


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/completions", '{"model": "\\ud800", "messages": [{"role": "user", "content": "\\udc00"}]}'),
        ("/v1/embeddings", '{"model": "m", "input": "a\\ud800b"}'),
        ("/v1/messages", '{"model": "\\ud800", "max_tokens": 9, "messages": [{"role": "user", "content": "x"}]}'),
        ("/v1/completions", '{"model": "\\ud800", "prompt": "x"}'),
        ("/v1beta/models/g:generateContent", '{"contents": [{"parts": [{"text": "\\udc00"}]}]}'),
    ],
)
def test_lone_surrogate_escape_is_a_400_not_a_500(server, path, body):
    """JSON may spell a lone UTF-16 surrogate; it has no UTF-8 form, so echoing it back would fail."""
    import httpx2

    # As an escape, as UTF-8 bytes of the surrogate (the standard parser passes them), and in UTF-16.
    raw = body.encode().decode("unicode_escape")
    for content in (body.encode(), raw.encode("utf-8", "surrogatepass"), raw.encode("utf-16-le", "surrogatepass")):
        r = httpx2.post(server.url + path, content=content, headers={"content-type": "application/json"})
        assert r.status_code == 400, (content, r.text)
        assert "surrogate" in r.text
