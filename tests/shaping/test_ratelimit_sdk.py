"""Rate limiting, as the official SDKs see it: the provider's 429 and its rate-limit headers."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import anthropic
import httpx2
import openai
import pytest
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from llmreplay.server import BackgroundServer

pytestmark = pytest.mark.sdk

USER = [{"role": "user", "content": "Hello there"}]
WINDOW = {"enabled": True, "strategy": "fixed-window", "requests": 2, "window_ms": 60_000}
RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"


def limited(make_server: Callable[..., BackgroundServer], **rate_limit: Any) -> BackgroundServer:
    srv = make_server()
    r = httpx2.patch(srv.url + "/api/config/global", json={"rate_limit": {**WINDOW, **rate_limit}})
    assert r.status_code == 200, r.text
    return srv


def oai(url: str, key: str = "sk-test") -> openai.OpenAI:
    return openai.OpenAI(base_url=url + "/v1", api_key=key, max_retries=0)


def chat_raw(client: openai.OpenAI, content: str = "Hello there") -> Any:
    return client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": content}]
    )


def test_openai_window_headers_then_429(make_server):
    client = oai(limited(make_server).url)
    remaining = []
    for _ in range(2):
        raw = chat_raw(client)
        assert raw.parse().choices[0].message.content
        assert raw.headers["x-ratelimit-limit-requests"] == "2"
        remaining.append(int(raw.headers["x-ratelimit-remaining-requests"]))
    assert remaining == [1, 0]
    with pytest.raises(openai.RateLimitError) as info:
        chat_raw(client)
    h = info.value.response.headers
    assert h["x-ratelimit-limit-requests"] == "2" and h["x-ratelimit-remaining-requests"] == "0"
    assert h["x-ratelimit-reset-requests"].endswith("s")
    assert 55 <= int(h["retry-after"]) <= 60
    assert info.value.code == "rate_limit_exceeded"


def test_anthropic_window_headers_then_429(make_server):
    client = anthropic.Anthropic(base_url=limited(make_server).url, api_key="sk-ant-test", max_retries=0)

    def send() -> Any:
        return client.messages.with_raw_response.create(model="claude-sonnet-4-6", max_tokens=64, messages=USER)

    remaining = [int(send().headers["anthropic-ratelimit-requests-remaining"]) for _ in range(2)]
    assert remaining == [1, 0]
    with pytest.raises(anthropic.RateLimitError) as info:
        send()
    h = info.value.response.headers
    assert h["anthropic-ratelimit-requests-limit"] == "2" and h["anthropic-ratelimit-requests-remaining"] == "0"
    assert h["anthropic-ratelimit-requests-reset"].endswith("Z") and int(h["retry-after"]) > 0
    assert info.value.body["error"]["type"] == "rate_limit_error"


def test_gemini_429_is_resource_exhausted_with_retry_info(make_server):
    srv = limited(make_server)
    client = genai.Client(api_key="AIza-test", http_options=types.HttpOptions(base_url=srv.url))
    for _ in range(2):
        assert client.models.generate_content(model="gemini-2.5-flash", contents="Hello").text
    with pytest.raises(genai_errors.ClientError) as info:
        client.models.generate_content(model="gemini-2.5-flash", contents="Hello")
    assert info.value.code == 429 and info.value.status == "RESOURCE_EXHAUSTED"
    details = info.value.details["error"]["details"]
    delays = [d["retryDelay"] for d in details if d["@type"] == RETRY_INFO]
    assert delays and delays[0].endswith("s") and float(delays[0][:-1]) > 50


def test_per_key_quotas_are_separate(make_server):
    url = limited(make_server, per_key=True).url
    alice, bob = oai(url, "sk-alice"), oai(url, "sk-bob")
    for _ in range(2):
        chat_raw(alice)
    with pytest.raises(openai.RateLimitError):
        chat_raw(alice)
    assert chat_raw(bob).headers["x-ratelimit-remaining-requests"] == "1"


def test_per_key_quotas_for_anthropic_and_gemini_keys(make_server):
    url = limited(make_server, per_key=True).url

    def claude(key: str) -> Any:
        client = anthropic.Anthropic(base_url=url, api_key=key, max_retries=0)
        return client.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=USER)

    def gemini(key: str) -> Any:
        client = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=url))
        return client.models.generate_content(model="gemini-2.5-flash", contents="Hello")

    for _ in range(2):
        claude("sk-ant-alice")
        gemini("AIza-alice")
    with pytest.raises(anthropic.RateLimitError):
        claude("sk-ant-alice")
    with pytest.raises(genai_errors.ClientError):
        gemini("AIza-alice")
    assert claude("sk-ant-bob").content[0].text
    assert gemini("AIza-bob").text


def test_shared_quota_without_per_key(make_server):
    url = limited(make_server).url
    for _ in range(2):
        chat_raw(oai(url, "sk-alice"))
    with pytest.raises(openai.RateLimitError):
        chat_raw(oai(url, "sk-bob"))


def test_tokens_per_minute_denies_a_large_prompt(make_server):
    client = oai(limited(make_server, requests=1000, tokens_per_minute=200).url)
    assert chat_raw(client, "short question").parse().choices[0].message.content
    with pytest.raises(openai.RateLimitError) as info:
        chat_raw(client, "lorem ipsum dolor sit amet " * 200)
    assert "tokens" in info.value.message.lower()


def test_reset_restores_the_quota(make_server):
    srv = limited(make_server)
    client = oai(srv.url)
    for _ in range(2):
        chat_raw(client)
    with pytest.raises(openai.RateLimitError):
        chat_raw(client)
    assert httpx2.post(srv.url + "/api/rate-limit/reset").status_code == 200
    assert chat_raw(client).headers["x-ratelimit-remaining-requests"] == "1"


def test_original_after_n_settings(make_server):
    # RATE_LIMIT_ENABLED=true RATE_LIMIT_MODE=after_n RATE_LIMIT_AFTER_N=2
    srv = make_server(rate_limit={"enabled": True, "mode": "after_n", "after_n": 2})
    client = oai(srv.url)
    for _ in range(2):
        assert chat_raw(client).parse().choices[0].message.content
    with pytest.raises(openai.RateLimitError):
        chat_raw(client)
    with pytest.raises(openai.RateLimitError):
        chat_raw(client)
