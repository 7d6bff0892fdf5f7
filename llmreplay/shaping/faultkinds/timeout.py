"""``timeout``: accept the request and never answer, or answer 504 late."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, ClassVar

from llmreplay.model import Answer, Cut, Frame
from llmreplay.shaping.faultkinds.base import HANG_LIMIT_S, FaultKind, When, error_answer, injected_error

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange
    from llmreplay.shaping.outcomes import Outcome


class Timeout(FaultKind):
    name = "timeout"
    syntax = "timeout | timeout:MS"
    description = "Accept the request and never answer (timeout:MS answers 504 after MS)."
    when: ClassVar[When] = "before any byte"
    example = "timeout:5000"
    duration = True
    default_ms = None  # no duration: hang until the client gives up

    def admit(self, ex: Exchange, outcome: Outcome) -> Answer | None:
        if outcome.ms is None:
            return Answer(0, (), (), cut=Cut("hang", at=HANG_LIMIT_S, before_headers=True))
        answer = error_answer(ex, injected_error(504, None))
        return dataclasses.replace(answer, frames=(Frame(answer.body, at=outcome.ms / 1000),))
