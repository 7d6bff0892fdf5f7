"""``truncate``: the stream ends without its terminator (``[DONE]``, ``message_stop`` …)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from llmreplay.model import Answer, Frame
from llmreplay.shaping.faultkinds.base import BrokenStream

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange
    from llmreplay.shaping.outcomes import Outcome


class Truncate(BrokenStream):
    name = "truncate"
    description = "End the stream without its terminator ([DONE], message_stop, response.completed)."

    def stream(self, ex: Exchange, answer: Answer, outcome: Outcome, frames: list[Frame]) -> Answer:
        return dataclasses.replace(answer, frames=tuple(frames[:-1]))

    def body(self, ex: Exchange, answer: Answer, outcome: Outcome) -> Answer:
        at = answer.frames[0].at if answer.frames else 0.0
        return dataclasses.replace(answer, frames=(Frame(answer.body[: len(answer.body) // 2], at=at),))
