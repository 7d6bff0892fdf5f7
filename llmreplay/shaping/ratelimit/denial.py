"""A 429 as llmreplay sends it, whoever decided it: a limiter's denial or an injected one.

Both go through :func:`rate_limited`, so that every 429 carries the same provider rate-limit headers (the
codec's ``quota_headers``: OpenAI ``x-ratelimit-*`` and ``retry-after-ms``, Anthropic ``anthropic-ratelimit-*``,
``retry-after``) and the same body details (the codec's ``render_error``: Gemini's QuotaFailure and RetryInfo).
An injected 429 reports the endpoint's configured quota, used up, even when rate limiting is off: a client
that reads the headers finds what a real 429 tells it.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Literal

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Answer, Quota, QuotaState

if TYPE_CHECKING:
    from llmreplay.configmodels import RateLimitConfig
    from llmreplay.exchange import Exchange

NOMINAL_TOKENS_PER_MINUTE = 1_000_000
"""The token quota a 429 reports, untouched, when none is configured: a real provider always has one, and
clients that read the token headers of a 429 find them."""

Unit = Literal["requests", "tokens"]


def injected_quota(cfg: RateLimitConfig, wait: float) -> Quota:
    """What an injected 429 reports: the endpoint's configured requests used up, whole again after ``wait``."""
    return Quota(requests=QuotaState(cfg.requests, 0, wait), retry_after=wait)


def with_tokens(quota: Quota, cfg: RateLimitConfig) -> Quota:
    """``quota`` with a token quota: the configured one, untouched, or a nominal one when none is configured."""
    if quota.tokens is not None:
        return quota
    tpm = cfg.tokens_per_minute or NOMINAL_TOKENS_PER_MINUTE
    return dataclasses.replace(quota, tokens=QuotaState(tpm, tpm, 0.0))


def rate_limited(ex: Exchange, quota: Quota, unit: Unit = "requests") -> Answer:
    """The 429 of an exchange whose ``unit`` quota is used up, in the route's envelope."""
    quota = with_tokens(quota, ex.config.rate_limit)
    state = quota.tokens if unit == "tokens" else quota.requests
    limit = state.limit if state is not None else 0
    wait = quota.retry_after or 0.0
    quota = dataclasses.replace(quota, retry_after=wait)
    model = ex.request.model if ex.request is not None else None
    what = "tokens per min (TPM)" if unit == "tokens" else "requests"
    codec = ex.route.codec
    err = ApiError(
        ErrorKind.RATE_LIMIT,
        f"Rate limit reached for {model or ex.route.endpoint} on {what}: Limit {limit}. "
        f"Please try again in {wait:.3g}s.",
        code="rate_limit_exceeded",
        headers=codec.quota_headers(quota),
        retry_after=wait,
        quota=Quota(tokens=state) if unit == "tokens" else Quota(requests=state),
        model=model,
    )
    return codec.render_error(err, ex.opts)


__all__ = ["NOMINAL_TOKENS_PER_MINUTE", "injected_quota", "rate_limited", "with_tokens"]
