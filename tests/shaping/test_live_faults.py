"""Faults on a stream still arriving (a forwarded upstream's), driven with a fake source and a fake clock."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator

import pytest

from llmreplay.configmodels import LatencyConfig
from llmreplay.exchange import Exchange
from llmreplay.model import Answer, Call, Cut, Frame
from llmreplay.providers import openai_chat
from llmreplay.providers.base import Route
from llmreplay.shaping.faultkinds import live
from llmreplay.shaping.faultkinds.registry import KINDS
from llmreplay.shaping.outcomes import parse

EVENTS = [b'data: {"n": %d}\n\n' % i for i in range(6)] + [b"data: [DONE]\n\n"]


class FakeLive:
    """Chunks as a network hands them over: events split and joined anywhere, each with an arrival time."""

    def __init__(self, chunks: list[tuple[bytes, float]]) -> None:
        self.chunks = chunks
        self.closed: bool | None = None
        self.cut: Cut | None = None

    def __aiter__(self) -> AsyncIterator[Frame]:
        return self._run()

    async def _run(self) -> AsyncIterator[Frame]:
        for data, at in self.chunks:
            yield Frame(data, at=at)

    def close(self, drain: bool = True) -> None:
        self.closed = drain


def exchange() -> Exchange:
    route = Route("POST", "/v1/chat/completions", "chat-completions", openai_chat.CODEC)
    return Exchange(Call("POST", "/v1/chat/completions"), route, 100.0, random.Random(0), LatencyConfig())


def answer(source: FakeLive) -> Answer:
    # Two events in the first chunk, one split across two chunks, the rest one a chunk.
    return Answer(200, (("content-type", "text/event-stream"),), (), stream=True, live=source)


def chunks() -> list[tuple[bytes, float]]:
    joined = EVENTS[0] + EVENTS[1]
    return [(joined, 0.1), (EVENTS[2][:5], 0.2), (EVENTS[2][5:], 0.25)] + [
        (e, 0.3 + 0.1 * i) for i, e in enumerate(EVENTS[3:])
    ]


async def written(shaped: Answer) -> list[Frame]:
    assert shaped.live is not None
    out = [f async for f in shaped.live]
    shaped.live.close(True)
    return out


def shape(spec: str, source: FakeLive) -> Answer:
    outcome = parse(spec)
    return KINDS[outcome.kind].shape(exchange(), answer(source), outcome)


def test_disconnect_counts_events_not_chunks_and_lets_the_source_read_on() -> None:
    source = FakeLive(chunks())
    shaped = shape("disconnect@3", source)
    frames = asyncio.run(written(shaped))
    assert [f.data for f in frames] == EVENTS[:3]
    assert frames[-1].at == 0.25  # the split event is due when its last byte came
    assert shaped.live is not None and shaped.live.cut == Cut("reset", at=0.25)
    assert source.closed is True  # drained for the recording, not abandoned


def test_stall_holds_back_event_n_and_every_one_after() -> None:
    frames = asyncio.run(written(shape("stall@2:500", FakeLive(chunks()))))
    assert [f.data for f in frames] == EVENTS
    assert [f.at for f in frames[:2]] == [0.1, 0.1]
    assert frames[2].at == pytest.approx(0.75) and frames[3].at == pytest.approx(0.8)


def test_stall_close_ends_after_n_and_closes_later() -> None:
    shaped = shape("stall@2:500:close", FakeLive(chunks()))
    frames = asyncio.run(written(shaped))
    assert [f.data for f in frames] == EVENTS[:2]
    assert shaped.live is not None and shaped.live.cut == Cut("close", at=pytest.approx(0.6))


def test_malformed_garbles_event_n_only() -> None:
    frames = asyncio.run(written(shape("malformed@1", FakeLive(chunks()))))
    assert [f.data for f in frames[:1] + frames[2:]] == EVENTS[:1] + EVENTS[2:]
    assert frames[1].data != EVENTS[1] and frames[1].data.startswith(b"data:")


def test_stream_error_sends_the_providers_error_event_in_place_of_the_rest() -> None:
    shaped = shape("stream-error@2", FakeLive(chunks()))
    frames = asyncio.run(written(shaped))
    assert [f.data for f in frames[:2]] == EVENTS[:2]
    assert len(frames) == 3 and b"error" in frames[2].data


def test_a_share_of_the_stream_reads_it_whole_then_keeps_its_gaps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(live, "clock", lambda: 101.0)  # the stream ended 1 s after the exchange began
    shaped = shape("disconnect@50%", FakeLive(chunks()))
    frames = asyncio.run(written(shaped))
    assert [f.data for f in frames] == EVENTS[:3]
    # Held until the end: the first goes out then (offset 1.0), the rest keep their gaps from it.
    assert [f.at for f in frames] == pytest.approx([1.0, 1.0, 1.15])
    assert shaped.live is not None and shaped.live.cut == Cut("reset", at=pytest.approx(1.15))


def test_slow_first_token_delays_every_frame_of_a_live_stream() -> None:
    frames = asyncio.run(written(shape("slow-first-token:200", FakeLive(chunks()))))
    assert [f.at for f in frames] == pytest.approx([at + 0.2 for _, at in chunks()])
