"""``slow-headers:MS``: the status line (and everything after it) held back."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, ClassVar

from llmreplay.model import Answer
from llmreplay.shaping.faultkinds.base import FaultKind, When, seconds, shift
from llmreplay.shaping.faultkinds.live import shifted

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange
    from llmreplay.shaping.outcomes import Outcome


class SlowHeaders(FaultKind):
    name = "slow-headers"
    syntax = "slow-headers:MS"
    description = "Hold the status line back for MS (slow-headers:MS)."
    when: ClassVar[When] = "before any byte"
    example = "slow-headers:2000"
    duration = True
    default_ms = 5000

    # Acts in ``shape``, not ``admit``: the delay is added to deadlines the timing stage sets first.
    def shape(self, ex: Exchange, answer: Answer, outcome: Outcome) -> Answer:
        delay = seconds(outcome)
        if answer.live is not None:
            return dataclasses.replace(shifted(answer, delay), headers_at=delay)
        return dataclasses.replace(answer, headers_at=delay, frames=shift(answer.frames, 0, delay))
