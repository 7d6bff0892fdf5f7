"""``reset``: the connection is reset (TCP RST) before the status line."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from llmreplay.model import Answer, Cut
from llmreplay.shaping.faultkinds.base import FaultKind, When

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange
    from llmreplay.shaping.outcomes import Outcome


class Reset(FaultKind):
    name = "reset"
    description = "Reset the connection before any byte is sent."
    when: ClassVar[When] = "before any byte"

    def admit(self, ex: Exchange, outcome: Outcome) -> Answer | None:
        return Answer(0, (), (), cut=Cut("reset", before_headers=True))
