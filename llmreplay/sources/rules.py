"""The rules source: scripted replies (:mod:`llmreplay.rules`) under the contract every source keeps.

The road asks the rule book itself, before admission (a rule's outcome is admission's, its timing the
exchange's); this source is the same book seen as a source, for whoever lists sources in order: ``find``
looks and uses nothing up, the play counts the match and makes the answer. A rule that only sets an outcome
or timing has no answer of its own here: the next source gives it.
"""

from __future__ import annotations

from llmreplay.exchange import Exchange
from llmreplay.model import Answer
from llmreplay.rules import RuleBook
from llmreplay.sources.base import Play


class RulesSource:
    name = "rule"

    def __init__(self, book: RuleBook) -> None:
        self.book = book

    def find(self, ex: Exchange) -> Play | None:
        hit = self.book.match(ex)
        if hit is None or not hit.has_reply:
            return None

        async def play() -> Answer:
            hit.take()
            return await hit.play(ex)

        return play
