"""``malformed@N``: chunk N's payload is cut short, so it is no longer JSON (the framing stays)."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from llmreplay.model import Answer, Frame
from llmreplay.shaping.faultkinds.base import BrokenStream
from llmreplay.shaping.faultkinds.live import AtChunk

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange
    from llmreplay.shaping.outcomes import Outcome


class Malformed(BrokenStream):
    name = "malformed"
    syntax = "malformed@N"
    description = "Send chunk N with a data line that is not valid JSON (malformed@N)."
    example = "malformed@3"
    position = True

    def stream(self, ex: Exchange, answer: Answer, outcome: Outcome, frames: list[Frame]) -> Answer:
        n = outcome.position(len(frames))
        # A content frame: bookkeeping events (Anthropic's ping) may be skipped unparsed by the SDKs.
        i = next((j for j in range(n, len(frames)) if frames[j].paced), min(n, len(frames) - 1))
        if i >= 0:
            frames[i] = frames[i]._replace(data=_garble(ex, frames[i].data))
        return dataclasses.replace(answer, frames=tuple(frames))

    def at_chunk(self, ex: Exchange, outcome: Outcome, n: int) -> AtChunk:
        return AtChunk(n, change=lambda f: f._replace(data=_garble(ex, f.data)))

    def body(self, ex: Exchange, answer: Answer, outcome: Outcome) -> Answer:
        at = answer.frames[0].at if answer.frames else 0.0
        return dataclasses.replace(answer, frames=(Frame(answer.body[: len(answer.body) // 2], at=at),))


def _garble(ex: Exchange, data: bytes) -> bytes:
    """The codec's own garbling where its framing is checksummed (AWS event streams), else :func:`garble`."""
    garbled = ex.route.codec.garble(data)
    return garble(data) if garbled is None else garbled


def garble(data: bytes) -> bytes:
    """The frame with its JSON payload cut in half: the line is no longer JSON, the framing stays."""
    marker = data.find(b"data:")
    if marker < 0:
        # A JSON-array stream element: cut the element itself.
        body = data.rstrip()
        return body[: max(1, len(body) // 2)] + data[len(body) :]
    start = marker + 5
    end = data.find(b"\n", start)
    end = len(data) if end < 0 else end
    line = data[start:end].rstrip(b"\r")
    cut = line[: max(2, len(line) // 2)]
    if cut.strip() == b"[DONE]" or not cut.strip().startswith(b"{"):
        cut = b" {not json"
    return data[:start] + cut + data[start + len(line) :]
