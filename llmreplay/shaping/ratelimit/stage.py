"""The rate-limit stage: renders what the quota said about this exchange.

The quota itself is taken before the shaper runs (``State.admit`` may be a round
trip to Redis; stages do no I/O). A denial becomes a 429 in the provider's
envelope with its rate-limit and retry-after headers (:mod:`.denial`, the home of
every 429, injected ones included); an admitted answer carries the remaining-quota
headers, as the real services send on every response.
"""

from __future__ import annotations

import dataclasses

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.exchange import Exchange
from llmreplay.model import Answer
from llmreplay.shaping.ratelimit.denial import rate_limited


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
        return rate_limited(ex, admission.quota, "tokens" if admission.reason == "tokens" else "requests")

    def shape(self, ex: Exchange, answer: Answer) -> Answer:
        admission = ex.admission
        if admission is None or not admission.allowed or answer.status >= 400:
            return answer
        extra = ex.route.codec.quota_headers(admission.quota)
        if not extra:
            return answer
        return dataclasses.replace(answer, headers=(*answer.headers, *extra.items()))
