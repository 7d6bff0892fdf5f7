"""``400`` … ``599``: that HTTP error before any byte, in the provider's own envelope."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from llmreplay.model import Answer
from llmreplay.shaping.faultkinds.base import FaultKind, Mode, When, error_answer, injected_error, retry_after_s
from llmreplay.shaping.ratelimit.denial import injected_quota, rate_limited

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange
    from llmreplay.shaping.outcomes import Outcome

LISTED: dict[int, str] = {
    400: "Bad request in the provider's envelope (OpenAI BadRequestError, Anthropic invalid_request_error).",
    401: "Authentication error: invalid API key.",
    403: "Permission denied.",
    404: "Not found (model or path).",
    429: "Rate limited, with retry-after and the provider's rate-limit headers.",
    500: "Internal server error.",
    502: "Bad gateway.",
    503: "Service unavailable.",
    504: "Gateway timeout.",
    529: "Anthropic overloaded_error (other providers: 503 with their overloaded code).",
}
"""The statuses listed by ``GET /api/failure-modes``; any other from 400 to 599 is accepted too."""


class Status(FaultKind):
    name = "status"
    syntax = "400 … 599"
    description = "That HTTP error, in the provider's own envelope."
    when: ClassVar[When] = "before any byte"
    lowest, highest = 400, 599

    def modes(self) -> tuple[Mode, ...]:
        return tuple(Mode(str(code), str(code), text, self.when, str(code)) for code, text in LISTED.items())

    def admit(self, ex: Exchange, outcome: Outcome) -> Answer | None:
        status = outcome.status or 500
        if status == 429:
            # The limiter's own 429, so that an injected one carries the same headers and body details.
            return rate_limited(ex, injected_quota(ex.config.rate_limit, retry_after_s(ex)))
        return error_answer(ex, injected_error(status, retry_after_s(ex)))
