"""Failure injection: the outcome of each exchange and what it does to the answer.

The outcome is settled at admission, once: the one the request asked for (header or scenario), else an
:class:`OutcomeDraw` from the endpoint's error rate and weighted kinds (and a stream's interruption rate).
``FaultStage`` (an admission stage) and ``StreamFaultStage`` (after the timing stage) read it and hand the work
to the outcome's kind (:mod:`llmreplay.shaping.faultkinds`): its ``admit`` answers faults that come before any
byte, in the provider's envelope; its ``shape`` rewrites the timed frames for faults that happen later
(disconnects, stalls, malformed chunks, in-stream errors, truncation, slow headers or first token), all before the
first byte is written.
"""

from __future__ import annotations

import random

from llmreplay.configmodels import FailureConfig
from llmreplay.exchange import Exchange
from llmreplay.model import Answer
from llmreplay.shaping.faultkinds.base import HANG_LIMIT_S, injected_error
from llmreplay.shaping.faultkinds.disconnect import Disconnect
from llmreplay.shaping.faultkinds.malformed import garble as malformed
from llmreplay.shaping.faultkinds.registry import KINDS
from llmreplay.shaping.outcomes import OK, Outcome, parse

CUT_FROM, CUT_TO = 10, 90
"""Where an interrupted stream is cut: a share of its chunks from this to that percent, so that it is always
cut mid-response (some of it sent, never its final event)."""


class OutcomeDraw:
    """Draws the outcome of an exchange that asked for none: a fault from its endpoint's error rate and
    weighted kinds; else, for a stream, an interruption at the endpoint's ``stream_interrupt_rate``.
    Part of admission: the road decides the outcome once, before any source is asked."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()
        self._kinds_cache: dict[tuple[tuple[str, float], ...], tuple[list[Outcome], list[float]]] = {}

    def __call__(self, failures: FailureConfig, ex: Exchange | None = None) -> Outcome:
        """The outcome for ``ex`` (only a streaming exchange can be interrupted)."""
        # The common case (no error rate, no interruption) is two comparisons and no further call.
        rate = failures.error_rate
        if rate > 0 and self._rng.random() < rate:
            fault = self._kind(failures)
            if not fault.is_ok:
                return fault
        if failures.stream_interrupt_rate <= 0 or ex is None or ex.request is None or not ex.request.stream:
            return OK
        return self._interruption(failures.stream_interrupt_rate, ex.rng)

    def _kind(self, failures: FailureConfig) -> Outcome:
        key = tuple(failures.kinds.items())
        table = self._kinds_cache.get(key)
        if table is None:
            table = ([parse(k) for k, _ in key], [w for _, w in key])
            self._kinds_cache[key] = table
        if not table[0] or sum(table[1]) <= 0:
            return OK
        return self._rng.choices(table[0], weights=table[1])[0]

    @staticmethod
    def _interruption(rate: float, rng: random.Random) -> Outcome:
        # The exchange's own generator, so that a seeded run cuts the same streams at the same places; one draw
        # decides both whether and where (below ``rate`` it is uniform over [0, rate)).
        u = rng.random()
        if u >= rate:
            return OK
        share = CUT_FROM + int((CUT_TO - CUT_FROM + 1) * u / rate)
        return Outcome(Disconnect.name, at=float(share), fraction=True, text=f"{Disconnect.name}@{share}%")


class FaultStage:
    """Answers the faults that come before any byte (the outcome is the admission's)."""

    name = "faults"

    def admit(self, ex: Exchange) -> Answer | None:
        outcome = ex.outcome
        return None if outcome is None else KINDS[outcome.kind].admit(ex, outcome)

    def shape(self, ex: Exchange, answer: Answer) -> Answer:
        return answer


class StreamFaultStage:
    """Applies the faults that happen after the first byte to the already timed frames."""

    name = "stream-faults"

    def admit(self, ex: Exchange) -> Answer | None:
        return None

    def shape(self, ex: Exchange, answer: Answer) -> Answer:
        outcome = ex.outcome
        # An error answer (the source's own, or a fault's from admit) is sent as it is.
        if outcome is None or answer.status >= 400:
            return answer
        return KINDS[outcome.kind].shape(ex, answer, outcome)


__all__ = ["HANG_LIMIT_S", "FaultStage", "OutcomeDraw", "StreamFaultStage", "injected_error", "malformed"]
