"""The shaper: runs its stages, in the order written out once here, then the writer."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from llmreplay.exchange import Exchange
from llmreplay.model import Answer
from llmreplay.shaping.stage import Stage
from llmreplay.shaping.timing import TimingStage, refused

log = logging.getLogger("llmreplay.shaper")


def default_stages() -> list[Stage]:
    """The built-in stages, in order: admission stages first, the timing stage last."""
    return [TimingStage()]


class Shaper:
    """Applies a fixed sequence of stages to every exchange, from every source."""

    def __init__(self, stages: Sequence[Stage] | None = None) -> None:
        self.stages = list(default_stages() if stages is None else stages)
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ValueError(f"duplicate stage names: {names}")
        self.failures = 0
        """Stage bugs caught and skipped (a stage must never turn into a 500)."""

    def admit(self, ex: Exchange) -> Answer | None:
        """The first early answer a stage gives, if any: a refusal (:meth:`refuse`)."""
        for stage in self.stages:
            try:
                early = stage.admit(ex)
            except Exception:
                self._failed(stage)
                continue
            if early is not None:
                return self.refuse(ex, early)
        return None

    def refuse(self, ex: Exchange, answer: Answer) -> Answer:
        """``answer``, decided before any generation, due after the exchange's error delay rather than its
        time to first token (unless it carries its own times), then shaped like any answer."""
        return self.shape(ex, refused(answer, ex.latency))

    def shape(self, ex: Exchange, answer: Answer) -> Answer:
        for stage in self.stages:
            try:
                answer = stage.shape(ex, answer)
            except Exception:
                self._failed(stage)
        return answer

    def _failed(self, stage: Stage) -> None:
        self.failures += 1
        log.exception("shaper stage %r failed; skipped", stage.name)
