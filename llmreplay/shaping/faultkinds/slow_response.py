"""``slow_response``: the original Mock LLM Server's slow answer, 5 to 10 s late and otherwise normal."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmreplay.shaping.faultkinds.slow_first_token import SlowFirstToken

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange
    from llmreplay.shaping.outcomes import Outcome

LOW_S, HIGH_S = 5.0, 10.0
"""The range of the extra delay, as the original draws it."""


class SlowResponse(SlowFirstToken):
    name = "slow_response"
    syntax = ""
    description = (
        "The original's slow_response: 5–10 s more (drawn per request) before the first byte of the body, "
        "then a normal answer."
    )
    example = ""
    duration = False
    default_ms = None

    def delay(self, ex: Exchange, outcome: Outcome) -> float:
        # The exchange's own generator: a seeded run draws the same delays again.
        return ex.rng.uniform(LOW_S, HIGH_S)
