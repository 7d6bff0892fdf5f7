"""``empty-reply``: the model answers nothing (``empty`` is the connection closed with no status line)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmreplay.model import Finish, Reply, Request
from llmreplay.shaping.faultkinds.content import ContentFault, reply

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange


class EmptyReply(ContentFault):
    name = "empty-reply"
    description = "A reply with no content and a normal finish (stop, end_turn, STOP), 0 output tokens."

    def make(self, ex: Exchange, req: Request) -> Reply:
        return reply(ex, req, (), Finish.STOP)
