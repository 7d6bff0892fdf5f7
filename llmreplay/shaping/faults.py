"""Failure injection: the outcome of each exchange and what it does to the answer.

The outcome is settled at admission, once: the one the request asked for (header or scenario), else an
:class:`OutcomeDraw` from the endpoint's error rate and weighted kinds. ``FaultStage`` (an admission stage) and
``StreamFaultStage`` (after the timing stage) read it and hand the work to the outcome's kind
(:mod:`llmreplay.shaping.faultkinds`): its ``admit`` answers faults that come before any byte, in the provider's
envelope; its ``shape`` rewrites the timed frames for faults that happen later (disconnects, stalls, malformed
chunks, in-stream errors, truncation, slow headers or first token), all before the first byte is written.
"""

from __future__ import annotations

import random

from llmreplay.configmodels import FailureConfig
from llmreplay.exchange import Exchange
from llmreplay.model import Answer
from llmreplay.shaping.faultkinds.base import HANG_LIMIT_S, injected_error
from llmreplay.shaping.faultkinds.malformed import garble as malformed
from llmreplay.shaping.faultkinds.registry import KINDS
from llmreplay.shaping.outcomes import OK, Outcome, parse


class OutcomeDraw:
    """Draws the outcome of an exchange that asked for none, from its endpoint's error rate and weighted kinds.
    Part of admission: the road decides the outcome once, before any source is asked."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()
        self._kinds_cache: dict[tuple[tuple[str, float], ...], tuple[list[Outcome], list[float]]] = {}

    def __call__(self, failures: FailureConfig) -> Outcome:
        if failures.error_rate <= 0 or self._rng.random() >= failures.error_rate:
            return OK
        key = tuple(failures.kinds.items())
        table = self._kinds_cache.get(key)
        if table is None:
            table = ([parse(k) for k, _ in key], [w for _, w in key])
            self._kinds_cache[key] = table
        if not table[0] or sum(table[1]) <= 0:
            return OK
        return self._rng.choices(table[0], weights=table[1])[0]


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
