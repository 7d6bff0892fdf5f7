"""Failure injection: the outcome of each exchange and what it does to the answer.

``FaultStage`` (an admission stage) settles the outcome: the one the request
asked for (header or scenario), else a draw from the endpoint's error rate and
weighted kinds. ``StreamFaultStage`` runs after the timing stage. Both hand the
work to the outcome's kind (:mod:`llmreplay.shaping.faultkinds`): its ``admit``
answers faults that come before any byte, in the provider's envelope; its
``shape`` rewrites the timed frames for faults that happen later (disconnects,
stalls, malformed chunks, in-stream errors, truncation, slow headers or first
token), all before the first byte is written.
"""

from __future__ import annotations

import random

from llmreplay.exchange import Exchange
from llmreplay.model import Answer
from llmreplay.shaping.faultkinds.base import HANG_LIMIT_S, injected_error
from llmreplay.shaping.faultkinds.malformed import garble as malformed
from llmreplay.shaping.faultkinds.registry import KINDS
from llmreplay.shaping.outcomes import OK, Outcome, parse


class FaultStage:
    """Settles the exchange's outcome and answers faults that come before any byte."""

    name = "faults"

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()
        self._kinds_cache: dict[tuple[tuple[str, float], ...], tuple[list[Outcome], list[float]]] = {}

    def admit(self, ex: Exchange) -> Answer | None:
        if ex.outcome is None:
            ex.outcome = self._draw(ex)
        return KINDS[ex.outcome.kind].admit(ex, ex.outcome)

    def shape(self, ex: Exchange, answer: Answer) -> Answer:
        return answer

    def _draw(self, ex: Exchange) -> Outcome:
        failures = ex.config.failures
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


__all__ = ["HANG_LIMIT_S", "FaultStage", "StreamFaultStage", "injected_error", "malformed"]
