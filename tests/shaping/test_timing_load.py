"""Load degradation, refusals' error delay and the stream interruption draw, in memory (no server, no clock)."""

from __future__ import annotations

import itertools
import random
from types import SimpleNamespace

import pytest

from llmreplay.configmodels import FailureConfig, LatencyConfig
from llmreplay.exchange import Exchange
from llmreplay.model import Answer, Cut, Frame
from llmreplay.providers.base import Route
from llmreplay.shaping.faults import CUT_FROM, CUT_TO, OutcomeDraw
from llmreplay.shaping.outcomes import OK, parse
from llmreplay.shaping.shaper import Shaper
from llmreplay.shaping.timing import TimingStage, load_factor, refused

LAT = LatencyConfig(initial_delay_ms=300, delay_ms=50, jitter_ms=0, error_delay_ms=5)


def _exchange(latency: LatencyConfig = LAT, *, stream: bool | None = None, seed: int = 0) -> Exchange:
    route = Route("POST", "/x", "x", codec=None, op=None)  # type: ignore[arg-type]
    ex = Exchange(SimpleNamespace(), route, 0.0, random.Random(seed), latency)  # type: ignore[arg-type]
    if stream is not None:
        ex.request = SimpleNamespace(stream=stream)  # type: ignore[assignment]
    return ex


# ---- load factor -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("in_flight", "factor"),
    [(0, 1.0), (1, 1.0), (2, 1 + 2 / 9), (5, 1 + 8 / 9), (10, 3.0), (11, 3.0), (10_000, 3.0)],
)
def test_load_factor_rises_linearly_from_one_to_the_factor_at_the_knee(in_flight: int, factor: float) -> None:
    lat = LatencyConfig(load_degradation=True, load_factor=3.0, load_knee=10)
    assert load_factor(lat, in_flight) == pytest.approx(factor)


def test_a_knee_of_one_is_full_load_at_once() -> None:
    lat = LatencyConfig(load_degradation=True, load_factor=4.0, load_knee=1)
    assert load_factor(lat, 1) == 4.0


def test_the_timing_stage_multiplies_every_latency_by_the_load() -> None:
    ex = _exchange(LatencyConfig(initial_delay_ms=300, delay_ms=50, jitter_ms=20))
    ex.load = 3.0
    frames = tuple(Frame(b"x") for _ in range(50))
    timed = [f.at or 0.0 for f in TimingStage().shape(ex, Answer(200, (), frames, stream=True)).frames]
    assert timed[0] == pytest.approx(0.9)
    gaps = [b - a for a, b in itertools.pairwise(timed)]
    assert all(0.15 - 1e-9 <= g <= 0.15 + 0.06 + 1e-9 for g in gaps)


def test_a_plain_answer_under_load_is_due_when_its_degraded_stream_would_end() -> None:
    ex = _exchange(stream=False)
    ex.load = 2.0
    body = TimingStage().shape(ex, Answer(200, (), (Frame(b"{}"),), steps=5))
    assert body.frames[0].at == pytest.approx(2 * (0.3 + 4 * 0.05))


def test_recorded_times_are_not_degraded() -> None:
    ex = _exchange()
    ex.load = 3.0
    frames = (Frame(b"a", at=0.1), Frame(b"b", at=0.2))
    assert [f.at for f in TimingStage().shape(ex, Answer(200, (), frames, stream=True)).frames] == [0.1, 0.2]


# ---- refusals --------------------------------------------------------------------------------


def test_a_refusal_is_due_after_the_error_delay_not_the_time_to_first_token() -> None:
    error = Answer(503, (), (Frame(b'{"error": {}}'),))
    assert refused(error, LAT).frames == (Frame(b'{"error": {}}', at=0.005),)
    # The timing stage leaves an answer that is already due alone, whatever the TTFT and the load.
    ex = _exchange(stream=False)
    ex.load = 3.0
    assert Shaper([TimingStage()]).refuse(ex, error).frames[0].at == 0.005


def test_a_refusal_that_carries_its_own_time_keeps_it() -> None:
    late = Answer(504, (), (Frame(b"{}", at=5.0),))  # timeout:5000
    assert refused(late, LAT) is late
    hang = Answer(0, (), (), cut=Cut("hang", at=900.0, before_headers=True))
    assert refused(hang, LAT).cut == hang.cut


def test_an_early_answer_from_a_stage_is_a_refusal() -> None:
    class Refuses:
        name = "refuses"

        def admit(self, ex: Exchange) -> Answer | None:
            return Answer(429, (), (Frame(b"{}"),))

        def shape(self, ex: Exchange, answer: Answer) -> Answer:
            return answer

    early = Shaper([Refuses(), TimingStage()]).admit(_exchange(stream=True))
    assert early is not None and early.frames[0].at == 0.005


# ---- stream interruption ---------------------------------------------------------------------


def test_rate_one_interrupts_every_stream_mid_response() -> None:
    draw = OutcomeDraw(random.Random(0))
    failures = FailureConfig(stream_interrupt_rate=1.0)
    for seed in range(200):
        outcome = draw(failures, _exchange(stream=True, seed=seed))
        assert outcome.kind == "disconnect" and outcome.fraction
        assert outcome.at is not None and CUT_FROM <= outcome.at <= CUT_TO
        assert parse(outcome.text) == outcome  # shown in the journal in the grammar's own spelling


def test_rate_zero_and_plain_answers_are_never_interrupted() -> None:
    draw = OutcomeDraw(random.Random(0))
    assert draw(FailureConfig(), _exchange(stream=True)) is OK
    assert draw(FailureConfig(stream_interrupt_rate=1.0), _exchange(stream=False)) is OK
    assert draw(FailureConfig(stream_interrupt_rate=1.0), _exchange()) is OK  # no request read: not a stream


def test_rate_zero_draws_nothing_from_the_exchange() -> None:
    # A seeded reply must come out as it did before the setting existed.
    ex = _exchange(stream=True, seed=7)
    OutcomeDraw(random.Random(0))(FailureConfig(), ex)
    assert ex.rng.random() == random.Random(7).random()


def test_interruptions_are_drawn_from_the_exchange_and_reproduce() -> None:
    failures = FailureConfig(stream_interrupt_rate=0.3)

    def run() -> list[str]:
        draw = OutcomeDraw(random.Random(1))
        return [draw(failures, _exchange(stream=True, seed=s)).text for s in range(400)]

    first = run()
    assert first == run()
    share = sum(t != "ok" for t in first) / len(first)
    assert 0.2 < share < 0.4


def test_a_drawn_fault_is_kept_and_the_interruption_comes_on_top() -> None:
    failures = FailureConfig(error_rate=1.0, kinds={"503": 1}, stream_interrupt_rate=1.0)
    assert OutcomeDraw(random.Random(0))(failures, _exchange(stream=True)).status == 503
