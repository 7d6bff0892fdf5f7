"""``stream-error@N``: after N chunks, the provider's own in-stream error event, then the end."""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING

from llmreplay.model import Answer, Frame
from llmreplay.shaping.faultkinds.base import BrokenStream, injected_error, last_at
from llmreplay.shaping.faultkinds.live import AtChunk

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange
    from llmreplay.shaping.outcomes import Outcome


class StreamError(BrokenStream):
    name = "stream-error"
    syntax = "stream-error@N"
    description = (
        "Send the provider's in-stream error event after N chunks and end the stream (stream-error@N): "
        "Anthropic event: error, Responses error + response.failed, a Chat Completions error object."
    )
    example = "stream-error@3"
    position = True

    def stream(self, ex: Exchange, answer: Answer, outcome: Outcome, frames: list[Frame]) -> Answer:
        kept = frames[: outcome.position(len(frames))]
        codec = ex.route.codec
        # Which error a provider's streams fail with is a wire fact: the codec knows it.
        err = injected_error(codec.stream_error_kind.status, None)
        data = codec.in_stream_error(err, ex.opts, kept)
        if data is not None:
            kept.append(Frame(data, at=last_at(kept, frames), paced=False))
        return dataclasses.replace(answer, frames=tuple(kept))

    def at_chunk(self, ex: Exchange, outcome: Outcome, n: int) -> AtChunk:
        codec = ex.route.codec
        err = injected_error(codec.stream_error_kind.status, None)
        return AtChunk(n, tail=lambda sent: codec.in_stream_error(err, ex.opts, sent), end=True)

    def body(self, ex: Exchange, answer: Answer, outcome: Outcome) -> Answer:
        # A plain answer has no events: the error takes its place.
        return ex.route.codec.render_error(injected_error(500, None), ex.opts)
