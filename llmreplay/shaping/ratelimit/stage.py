"""The rate-limit stage: admits or denies each request against its endpoint's quotas.

A denial is a 429 in the provider's envelope with its rate-limit and retry-after
headers; an admitted answer carries the remaining-quota headers, as the real
services send on every response.
"""

from __future__ import annotations

import dataclasses

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.exchange import Exchange
from llmreplay.model import Answer
from llmreplay.shaping.ratelimit.quotas import Quotas
from llmreplay.synth.tokens import prompt_tokens


class RateLimitStage:
    name = "rate-limit"

    def __init__(self, quotas: Quotas) -> None:
        self.quotas = quotas

    def admit(self, ex: Exchange) -> Answer | None:
        cfg = ex.config.rate_limit
        if not cfg.enabled:
            return None
        key = ex.api_key if cfg.per_key else ""
        tokens = prompt_tokens(ex.request) if ex.request is not None and cfg.tokens_per_minute else 0
        admission = self.quotas.admit(ex.route.endpoint, key, cfg, tokens)
        ex.quota = admission.quota
        if admission.allowed:
            return None
        ex.denied = True
        q = admission.quota
        state = q.tokens if admission.reason == "tokens" else q.requests
        limit = state.limit if state is not None else 0
        unit = "tokens per min (TPM)" if admission.reason == "tokens" else "requests"
        wait = q.retry_after or 0.0
        model = ex.request.model if ex.request is not None else ex.route.endpoint
        err = ApiError(
            ErrorKind.RATE_LIMIT,
            f"Rate limit reached for {model} on {unit}: Limit {limit}. Please try again in {wait:.3g}s.",
            code="rate_limit_exceeded",
            headers=ex.route.codec.quota_headers(q),
            retry_after=wait,
        )
        return ex.route.codec.render_error(err, ex.opts)

    def shape(self, ex: Exchange, answer: Answer) -> Answer:
        if ex.quota is None or ex.denied or answer.status >= 400:
            return answer
        cfg = ex.config.rate_limit
        if cfg.tokens_per_minute and ex.output_tokens:
            key = ex.api_key if cfg.per_key else ""
            self.quotas.charge(ex.route.endpoint, key, cfg, ex.output_tokens)
        extra = ex.route.codec.quota_headers(ex.quota)
        if not extra:
            return answer
        return dataclasses.replace(answer, headers=(*answer.headers, *extra.items()))
