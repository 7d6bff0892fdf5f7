"""``disconnect@N``: the connection is reset after N chunks (or N % of the stream)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from llmreplay.model import Answer, Cut, Frame
from llmreplay.shaping.faultkinds.base import BrokenStream, last_at
from llmreplay.shaping.faultkinds.live import AtChunk

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange
    from llmreplay.shaping.outcomes import Outcome


class Disconnect(BrokenStream):
    name = "disconnect"
    syntax = "disconnect@N | disconnect@N%"
    description = "Reset the connection mid-stream after N chunks or N% of the stream (disconnect@N, disconnect@50%)."
    example = "disconnect@50%"
    position = True

    def stream(self, ex: Exchange, answer: Answer, outcome: Outcome, frames: list[Frame]) -> Answer:
        kept = tuple(frames[: outcome.position(len(frames))])
        return dataclasses.replace(answer, frames=kept, cut=Cut("reset", at=last_at(kept, frames)))

    def at_chunk(self, ex: Exchange, outcome: Outcome, n: int) -> AtChunk:
        return AtChunk(n, end=True, cut=Cut("reset"))

    def body(self, ex: Exchange, answer: Answer, outcome: Outcome) -> Answer:
        # Half a body, then a reset: sent as a stream so the half really goes out before the cut.
        at = answer.frames[0].at if answer.frames else 0.0
        half = Frame(answer.body[: len(answer.body) // 2], at=at)
        return dataclasses.replace(answer, stream=True, frames=(half,), cut=Cut("reset", at=at))
