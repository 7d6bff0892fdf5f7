"""``stall@N:MS[:close]``: the stream stops for MS after N chunks, then goes on (or is closed)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from llmreplay.model import Answer, Cut, Frame
from llmreplay.shaping.faultkinds.base import BrokenStream, seconds, shift
from llmreplay.shaping.faultkinds.live import AtChunk

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange
    from llmreplay.shaping.outcomes import Outcome


class Stall(BrokenStream):
    name = "stall"
    syntax = "stall@N:MS | stall@N:MS:close"
    description = "Stop sending for MS after N chunks, then continue, or close with :close (stall@N:MS[:close])."
    example = "stall@3:2000"
    position = True
    duration = True
    default_ms = 5000
    closes = True

    def stream(self, ex: Exchange, answer: Answer, outcome: Outcome, frames: list[Frame]) -> Answer:
        n, delay = outcome.position(len(frames)), seconds(outcome)
        if outcome.close:
            kept = tuple(frames[:n])
            last = kept[-1].at if kept and kept[-1].at is not None else 0.0
            return dataclasses.replace(answer, frames=kept, cut=Cut("close", at=last + delay))
        return dataclasses.replace(answer, frames=shift(frames, n, delay))

    def at_chunk(self, ex: Exchange, outcome: Outcome, n: int) -> AtChunk:
        delay = seconds(outcome)
        return AtChunk(n, end=True, cut=Cut("close", at=delay)) if outcome.close else AtChunk(n, delay=delay)

    def body(self, ex: Exchange, answer: Answer, outcome: Outcome) -> Answer:
        delay = seconds(outcome)
        if outcome.close:
            at = answer.frames[0].at if answer.frames else 0.0
            return dataclasses.replace(answer, frames=(), cut=Cut("close", at=(at or 0.0) + delay))
        return dataclasses.replace(answer, frames=shift(answer.frames, 0, delay))
