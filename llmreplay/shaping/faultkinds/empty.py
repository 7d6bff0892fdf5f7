"""``empty``: the connection is closed (FIN) with no status line."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from llmreplay.model import Answer, Cut
from llmreplay.shaping.faultkinds.base import FaultKind, When

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange
    from llmreplay.shaping.outcomes import Outcome


class Empty(FaultKind):
    name = "empty"
    description = "Close the connection without sending a status line."
    when: ClassVar[When] = "before any byte"

    def admit(self, ex: Exchange, outcome: Outcome) -> Answer | None:
        return Answer(0, (), (), cut=Cut("close", before_headers=True))
