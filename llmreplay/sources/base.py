"""The contract every source of answers keeps: synthetic replies, cassette recordings and a live upstream.

A source is asked in two steps, as vcrpy asks a cassette (``can_play_response_for``, then ``play_response``):
:meth:`Source.find` looks and changes nothing; the :data:`Play` it returns makes the answer and uses up whatever
it must (a recording, an upstream call). The road asks only once the request is admitted, and runs a play
straight after finding it, so a refused request never uses anything up. The order sources are asked in is
written out once, by the record mode (:meth:`llmreplay.sources.deck.Deck.sources`).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Protocol

from llmreplay.exchange import Exchange
from llmreplay.model import Answer

Play = Callable[[], Awaitable[Answer]]
"""Makes the answer a source found: unshaped, every frame at its source's own time (or none)."""


class Source(Protocol):
    name: str
    """``synthetic``, ``cassette`` or ``upstream``: what the journal and the events say answered."""

    def find(self, ex: Exchange) -> Play | None:
        """How this source would answer ``ex``, or None when it has nothing for it; uses nothing up."""
        ...
