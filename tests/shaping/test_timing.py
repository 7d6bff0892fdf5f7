import itertools
import random

import pytest

from llmreplay.config import LatencySettings
from llmreplay.exchange import Exchange
from llmreplay.model import Answer, Call, Frame
from llmreplay.providers.base import Route
from llmreplay.shaping.outcomes import OK, parse
from llmreplay.shaping.timing import TimingStage, batches, body_delay, offsets


def test_paced_frames_step_by_gap_and_bookkeeping_rides_along():
    frames = (Frame(b"start", paced=False), Frame(b"a"), Frame(b"b"), Frame(b"stop", paced=False), Frame(b"c"))
    assert offsets(frames, 0.3, 0.05, 0.0, random.Random(1)) == pytest.approx([0.3, 0.3, 0.35, 0.35, 0.4])


def test_deadlines_are_absolute_no_drift_over_long_streams():
    frames = tuple(Frame(b"x") for _ in range(10_001))
    t = offsets(frames, 0.3, 0.05, 0.0, random.Random(0))
    assert abs(t[-1] - (0.3 + 10_000 * 0.05)) < 1e-6


def test_jitter_is_bounded_and_seeded():
    frames = tuple(Frame(b"x") for _ in range(200))
    a = offsets(frames, 0.0, 0.05, 0.03, random.Random(7))
    b = offsets(frames, 0.0, 0.05, 0.03, random.Random(7))
    assert a == b
    gaps = [y - x for x, y in itertools.pairwise(a)]
    assert all(0.05 <= g <= 0.08 + 1e-12 for g in gaps)
    assert max(gaps) - min(gaps) > 0.01


def test_recorded_times_are_kept():
    frames = (Frame(b"a", at=0.1), Frame(b"b", at=0.5), Frame(b"c", at=0.52))
    assert offsets(frames, 9.0, 9.0, 0.0, random.Random(0)) == [0.1, 0.5, 0.52]


def test_body_delay_equals_stream_duration():
    assert body_delay(1, 0.3, 0.05, 0.0, random.Random(0)) == 0.3
    assert abs(body_delay(11, 0.3, 0.05, 0.0, random.Random(0)) - 0.8) < 1e-9


def test_batches_join_frames_due_together():
    frames = (Frame(b"a", at=0.1), Frame(b"b", at=0.1), Frame(b"c", at=0.2))
    assert batches(frames) == [(0.1, b"ab"), (0.2, b"c")]


def _exchange(latency: LatencySettings) -> Exchange:
    route = Route("POST", "/x", "x", codec=None, op=None)  # type: ignore[arg-type]
    return Exchange(Call("POST", "/x"), route, 0.0, random.Random(0), latency)


def test_stage_times_a_stream_and_a_body():
    lat = LatencySettings(initial_delay_ms=300, delay_ms=50, jitter_ms=0, chunk_size=10)
    ex = _exchange(lat)
    stream = Answer(200, (), (Frame(b"h", paced=False), Frame(b"a"), Frame(b"b")), stream=True)
    assert [f.at for f in TimingStage().shape(ex, stream).frames] == pytest.approx([0.3, 0.3, 0.35])
    ex.request = object()  # type: ignore[assignment]
    body = Answer(200, (), (Frame(b"{}"),), stream=False, steps=5)
    assert TimingStage().shape(ex, body).frames[0].at == pytest.approx(0.3 + 4 * 0.05)


def test_with_nothing_delayed_the_answer_goes_as_it_is():
    # Issue 23: the load tests' setting. Every untimed frame is due at once, which the writer reads it as, so the
    # stage makes no new answer (stamping every frame with 0 cost more than the rest of the stage).
    ex = _exchange(LatencySettings(initial_delay_ms=0, delay_ms=0, jitter_ms=0, chunk_size=10))
    ex.request = object()  # type: ignore[assignment]
    ex.outcome = OK
    body = Answer(200, (), (Frame(b"{}"),), steps=5)
    stream = Answer(200, (), (Frame(b"h", paced=False), Frame(b"a"), Frame(b"b")), stream=True)
    assert TimingStage().shape(ex, body) is body and TimingStage().shape(ex, stream) is stream
    assert batches(stream.frames) == [(0.0, b"hab")]


def test_with_nothing_delayed_a_fault_still_reads_the_frames_times():
    # The fault stages after the timing stage place their cut from the frames' times: those are given.
    ex = _exchange(LatencySettings(initial_delay_ms=0, delay_ms=0, jitter_ms=0, chunk_size=10))
    ex.outcome = parse("disconnect@1")
    stream = Answer(200, (), (Frame(b"h", paced=False), Frame(b"a"), Frame(b"b")), stream=True)
    assert [f.at for f in TimingStage().shape(ex, stream).frames] == [0.0, 0.0, 0.0]
