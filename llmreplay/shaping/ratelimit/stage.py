"""The rate-limit stage: renders what the quota said about this exchange.

The quota itself is taken before the shaper runs (``State.admit`` may be a round
trip to Redis; stages do no I/O). A denial becomes a 429 in the provider's
envelope with its rate-limit and retry-after headers; an admitted answer carries
the remaining-quota headers, as the real services send on every response.
"""

from __future__ import annotations

import dataclasses

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.exchange import Exchange
from llmreplay.model import Answer


class RateLimitStage:
    name = "rate-limit"

    def admit(self, ex: Exchange) -> Answer | None:
        admission = ex.admission
        if admission is None:
            return None
        if admission.allowed:
            return None
        if admission.reason == "state":
            # The shared state is unreachable and the policy is to fail closed: not a quota, an outage.
            err = ApiError(ErrorKind.UNAVAILABLE, "Rate-limit state is unavailable; try again shortly.")
            return ex.route.codec.render_error(err, ex.opts)
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
        admission = ex.admission
        if admission is None or not admission.allowed or answer.status >= 400:
            return answer
        extra = ex.route.codec.quota_headers(admission.quota)
        if not extra:
            return answer
        return dataclasses.replace(answer, headers=(*answer.headers, *extra.items()))
