"""The contract of a shaper stage.

A stage is a small object with two plain hooks, called in the order the shaper
lists its stages:

- ``admit(ex)`` runs before any frame exists. It may return an :class:`Answer`
  to send instead of the real one (a rate-limit 429, an injected error); ``None``
  lets the exchange go on.
- ``shape(ex, answer)`` receives the whole answer before its first byte is
  written and returns the answer to send: frames may be timed, dropped, added
  or replaced, but every frame passed on keeps its bytes unless changing them
  is the stage's purpose. Work is done here, in bulk, never per frame at
  write time.

Stages do no I/O and never sleep: only the writer awaits. A stage that fails is
logged and skipped by the shaper (unless failing is its job).
"""

from __future__ import annotations

from typing import Protocol

from llmreplay.exchange import Exchange
from llmreplay.model import Answer


class Stage(Protocol):
    name: str

    def admit(self, ex: Exchange) -> Answer | None: ...

    def shape(self, ex: Exchange, answer: Answer) -> Answer: ...
