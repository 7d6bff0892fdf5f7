"""The one home of a 429 (shaping/ratelimit/denial.py): what a limiter's and an injected 429 report."""

from __future__ import annotations

import json
import random

import pytest

from llmreplay.codec import Codec
from llmreplay.configmodels import EndpointConfig, LatencyConfig, RateLimitConfig
from llmreplay.exchange import Exchange
from llmreplay.model import Call, Quota, QuotaState
from llmreplay.providers import anthropic_messages, gemini, openai_chat
from llmreplay.providers.base import Route
from llmreplay.shaping.faultkinds.registry import KINDS
from llmreplay.shaping.outcomes import parse
from llmreplay.shaping.ratelimit.denial import NOMINAL_TOKENS_PER_MINUTE, injected_quota, rate_limited, with_tokens

RPC = "type.googleapis.com/google.rpc."


def exchange(codec: Codec, **rate_limit: object) -> Exchange:
    route = Route("POST", "/x", "chat-completions", codec)
    config = EndpointConfig(rate_limit=RateLimitConfig(**rate_limit))
    return Exchange(Call("POST", "/x"), route, 0.0, random.Random(0), LatencyConfig(), config=config)


def test_an_injected_quota_is_the_configured_one_used_up() -> None:
    q = injected_quota(RateLimitConfig(requests=40), 2.5)
    assert q == Quota(requests=QuotaState(40, 0, 2.5), retry_after=2.5)


def test_a_429_always_reports_a_token_quota() -> None:
    bare = Quota(requests=QuotaState(5, 0, 1.0), retry_after=1.0)
    nominal = QuotaState(NOMINAL_TOKENS_PER_MINUTE, NOMINAL_TOKENS_PER_MINUTE, 0.0)
    assert with_tokens(bare, RateLimitConfig()).tokens == nominal
    assert with_tokens(bare, RateLimitConfig(tokens_per_minute=900)).tokens == QuotaState(900, 900, 0.0)
    limiter_said = Quota(tokens=QuotaState(900, 12, 30.0))
    assert with_tokens(limiter_said, RateLimitConfig(tokens_per_minute=900)) is limiter_said


def test_an_injected_429_and_a_limiters_are_one_answer() -> None:
    # The status kind's 429 (header, scenario, failure kind, rule) goes through rate_limited, as the stage does.
    ex = exchange(openai_chat.CODEC, requests=3)
    injected = KINDS["status"].admit(ex, parse("429"))
    assert injected is not None
    limiter = rate_limited(ex, injected_quota(ex.config.rate_limit, 1.0))
    assert (injected.status, dict(injected.headers), injected.body) == (
        limiter.status,
        dict(limiter.headers),
        limiter.body,
    )
    h = dict(injected.headers)
    assert (h["x-ratelimit-limit-requests"], h["x-ratelimit-remaining-requests"], h["retry-after-ms"]) == (
        "3",
        "0",
        "1000",
    )


def test_anthropic_reports_every_token_quota() -> None:
    h = dict(rate_limited(exchange(anthropic_messages.CODEC), injected_quota(RateLimitConfig(), 1.0)).headers)
    for unit in ("requests", "tokens", "input-tokens", "output-tokens"):
        assert {f"anthropic-ratelimit-{unit}-{f}" for f in ("limit", "remaining", "reset")} <= set(h)
    assert h["retry-after"] == "1"


@pytest.mark.parametrize(("unit", "quota_id"), [("requests", "GenerateRequests"), ("tokens", "GenerateContentInput")])
def test_gemini_names_the_quota_it_ran_out_of(unit: str, quota_id: str) -> None:
    ex = exchange(gemini.CODEC, tokens_per_minute=500)
    quota = Quota(requests=QuotaState(10, 9, 6.0), tokens=QuotaState(500, 20, 30.0), retry_after=30.0)
    answer = rate_limited(ex, quota, unit)  # type: ignore[arg-type]
    assert not [k for k, _ in answer.headers if "ratelimit" in k or k == "retry-after"]  # Gemini sends none
    error = json.loads(answer.body)["error"]
    assert (error["code"], error["status"]) == (429, "RESOURCE_EXHAUSTED")
    failure, help_, retry = error["details"]
    assert (failure["@type"], help_["@type"], retry) == (
        RPC + "QuotaFailure",
        RPC + "Help",
        {"@type": RPC + "RetryInfo", "retryDelay": "30s"},
    )
    (violation,) = failure["violations"]
    assert violation["quotaId"].startswith(quota_id)
    assert violation["quotaValue"] == ("10" if unit == "requests" else "500")
