"""Bedrock's own words for a throttle (issue 22): every ThrottlingException says "Too many requests, please wait
before trying again." or, for a token quota, "Too many tokens, …" (users' reports of the live service), where
ours named llmreplay's limit; boto3 and AnthropicBedrock raise the same exceptions with the same message."""

from __future__ import annotations

from typing import Any

import anthropic
import httpx
import pytest

from .bedrock import MODEL, bedrock, with_headers

pytestmark = pytest.mark.sdk

TOO_MANY_REQUESTS = "Too many requests, please wait before trying again."
TOO_MANY_TOKENS = "Too many tokens, please wait before trying again."


def converse(client: Any, text: str) -> Any:
    return client.converse(modelId=MODEL, messages=[{"role": "user", "content": [{"text": text}]}])


def test_a_throttle_says_too_many_requests(server: Any) -> None:
    c = bedrock(server.url)
    with_headers(c, {"x-llmreplay-status": "429"})
    with pytest.raises(c.exceptions.ThrottlingException) as caught:
        converse(c, "Hello")
    assert caught.value.response["Error"]["Message"] == TOO_MANY_REQUESTS
    claude = anthropic.AnthropicBedrock(
        aws_region="us-east-1", aws_access_key="AKIDEXAMPLE", aws_secret_key="fake", base_url=server.url, max_retries=0
    )
    with pytest.raises(anthropic.RateLimitError) as limited:
        claude.messages.create(
            model=MODEL,
            max_tokens=50,
            messages=[{"role": "user", "content": "Hello"}],
            extra_headers={"x-llmreplay-status": "429"},
        )
    assert limited.value.body == {"message": TOO_MANY_REQUESTS}


def test_a_token_quota_says_too_many_tokens(make_server: Any) -> None:
    srv = make_server()
    limits = {"enabled": True, "strategy": "fixed-window", "requests": 1000, "window_ms": 60_000}
    r = httpx.patch(srv.url + "/api/config/global", json={"rate_limit": {**limits, "tokens_per_minute": 200}})
    assert r.status_code == 200, r.text
    c = bedrock(srv.url)
    assert converse(c, "short question")["output"]
    with pytest.raises(c.exceptions.ThrottlingException) as caught:
        converse(c, "lorem ipsum dolor sit amet " * 200)
    assert caught.value.response["Error"]["Message"] == TOO_MANY_TOKENS
