"""Every 429 looks like the provider's, whoever decided it, as the official SDKs see it (issue 18).

An injected 429 (a header, a fault, a scenario step, a configured failure kind, a rule's outcome) and a
limiter's carry the same rate-limit headers, read from the SDK's error's response: OpenAI ``x-ratelimit-*``
and ``retry-after-ms``, Anthropic ``anthropic-ratelimit-*``; and Gemini's body the same QuotaFailure and
RetryInfo details. An injected 429 reports the endpoint's configured quota used up, with rate limiting off.
"""

from __future__ import annotations

import uuid
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
from llmreplay.shaping.ratelimit.denial import NOMINAL_TOKENS_PER_MINUTE

pytestmark = pytest.mark.sdk

USER = [{"role": "user", "content": "Hello there"}]
LIMIT = 7
"""The endpoint's configured requests: what every 429 reports as the limit."""
RPC = "type.googleapis.com/google.rpc."


def _header(name: str) -> dict[str, str]:
    return {name: "429"}


def _scenario() -> dict[str, str]:
    return {"x-llmreplay-scenario": "429,ok", "x-llmreplay-scenario-key": uuid.uuid4().hex}


def _patch(url: str, body: dict[str, Any]) -> None:
    r = httpx2.patch(url + "/api/config/global", json=body)
    assert r.status_code == 200, r.text


def _rule(url: str) -> None:
    r = httpx2.put(url + "/api/rules", json={"rules": [{"name": "limited", "match": {}, "reply": {"outcome": "429"}}]})
    assert r.status_code == 200, r.text


WAYS: dict[str, tuple[Callable[[str], None], Callable[[], dict[str, str]]]] = {
    "status-header": (lambda url: None, lambda: _header("x-llmreplay-status")),
    "fault-header": (lambda url: None, lambda: _header("x-llmreplay-fault")),
    "scenario": (lambda url: None, _scenario),
    "failure-kind": (lambda url: _patch(url, {"failures": {"error_rate": 1.0, "kinds": {"429": 1}}}), dict),
    "rule": (_rule, dict),
    "limiter": (lambda url: _patch(url, {"rate_limit": {"enabled": True, "strategy": "always"}}), dict),
}
"""How each test makes the next request a 429: a change to the server, then the request's headers."""


@pytest.fixture(params=list(WAYS))
def limited(request: pytest.FixtureRequest, make_server: Callable[..., BackgroundServer]) -> tuple[str, Callable]:
    """A server whose next request is a 429 by one way, and the headers that request carries."""
    srv = make_server(rate_limit={"requests": LIMIT})
    prepare, headers = WAYS[request.param]
    prepare(srv.url)
    return srv.url, headers


def _retry_after(h: httpx2.Headers | Any) -> None:
    assert int(h["retry-after"]) >= 1


@pytest.mark.parametrize("api", ["chat", "responses"])
def test_openai_429_carries_the_rate_limit_headers(limited, api: str) -> None:
    url, headers = limited
    client = openai.OpenAI(base_url=url + "/v1", api_key="sk-test", max_retries=0)
    with pytest.raises(openai.RateLimitError) as info:
        if api == "chat":
            client.chat.completions.create(model="gpt-4o", messages=USER, extra_headers=headers())
        else:
            client.responses.create(model="gpt-4o", input="Hello there", extra_headers=headers())
    h = info.value.response.headers
    assert (h["x-ratelimit-limit-requests"], h["x-ratelimit-remaining-requests"]) == (str(LIMIT), "0")
    assert h["x-ratelimit-reset-requests"][-1] == "s"  # a Go duration: 1s, 1m0s
    tpm = str(NOMINAL_TOKENS_PER_MINUTE)
    assert (h["x-ratelimit-limit-tokens"], h["x-ratelimit-remaining-tokens"], h["x-ratelimit-reset-tokens"]) == (
        tpm,
        tpm,
        "0ms",
    )
    _retry_after(h)
    assert int(h["retry-after-ms"]) >= 1
    assert info.value.code == "rate_limit_exceeded"


def test_anthropic_429_carries_the_rate_limit_headers(limited) -> None:
    url, headers = limited
    client = anthropic.Anthropic(base_url=url, api_key="sk-ant-test", max_retries=0)
    with pytest.raises(anthropic.RateLimitError) as info:
        client.messages.create(model="claude-sonnet-4-6", max_tokens=64, messages=USER, extra_headers=headers())
    h = info.value.response.headers
    assert (h["anthropic-ratelimit-requests-limit"], h["anthropic-ratelimit-requests-remaining"]) == (str(LIMIT), "0")
    for unit in ("requests", "tokens", "input-tokens", "output-tokens"):
        assert h[f"anthropic-ratelimit-{unit}-reset"].endswith("Z")  # an RFC 3339 time
    for unit in ("tokens", "input-tokens", "output-tokens"):
        assert h[f"anthropic-ratelimit-{unit}-limit"] == h[f"anthropic-ratelimit-{unit}-remaining"]
    _retry_after(h)
    assert info.value.body["error"]["type"] == "rate_limit_error"


def test_gemini_429_body_carries_quota_failure_and_retry_info(limited) -> None:
    url, headers = limited
    client = genai.Client(api_key="AIza-test", http_options=types.HttpOptions(base_url=url, headers=headers()))
    with pytest.raises(genai_errors.ClientError) as info:
        client.models.generate_content(model="gemini-2.5-flash", contents="Hello")
    assert info.value.code == 429 and info.value.status == "RESOURCE_EXHAUSTED"
    details = {d["@type"].removeprefix(RPC): d for d in info.value.details["error"]["details"]}
    assert list(details) == ["QuotaFailure", "Help", "RetryInfo"]  # the real one's order
    (violation,) = details["QuotaFailure"]["violations"]
    assert violation["quotaValue"] == str(LIMIT) and violation["quotaId"].startswith("GenerateRequestsPerMinute")
    assert violation["quotaDimensions"] == {"location": "global", "model": "gemini-2.5-flash"}
    delay = details["RetryInfo"]["retryDelay"]
    assert delay.endswith("s") and float(delay[:-1]) > 0
