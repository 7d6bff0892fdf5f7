"""``unknown-tool``: a call of a tool the request did not offer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmreplay.model import Finish, Reply, Request
from llmreplay.shaping.faultkinds.content import ContentFault, call, reply

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange

UNKNOWN = "unknown_tool"


class UnknownTool(ContentFault):
    name = "unknown-tool"
    description = "A call of a tool the request did not offer (named unknown_tool), with arguments {}."

    def make(self, ex: Exchange, req: Request) -> Reply:
        offered = {t.name for t in req.tools}
        name = UNKNOWN
        while name in offered:
            name += "_"
        return reply(ex, req, (call(ex, name, "{}"),), Finish.TOOL_CALLS)
