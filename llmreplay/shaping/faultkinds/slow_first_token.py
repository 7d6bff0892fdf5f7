"""``slow-first-token:MS``: the first content chunk (and every one after it) comes MS later."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, ClassVar

from llmreplay.model import Answer
from llmreplay.shaping.faultkinds.base import FaultKind, When, seconds, shift
from llmreplay.shaping.faultkinds.live import shifted

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange
    from llmreplay.shaping.outcomes import Outcome


class SlowFirstToken(FaultKind):
    name = "slow-first-token"
    syntax = "slow-first-token:MS"
    description = "Delay the first streamed chunk by MS more (slow-first-token:MS)."
    when: ClassVar[When] = "mid-stream"
    example = "slow-first-token:2000"
    duration = True
    default_ms = 5000

    def delay(self, ex: Exchange, outcome: Outcome) -> float:
        """Seconds added before the first content chunk."""
        return seconds(outcome)

    def shape(self, ex: Exchange, answer: Answer, outcome: Outcome) -> Answer:
        delay = self.delay(ex, outcome)
        if answer.live is not None:
            return shifted(answer, delay)
        return dataclasses.replace(answer, frames=shift(answer.frames, 0, delay))
