"""``bad-tool-args``: a tool call whose arguments are not JSON."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from llmreplay.model import Finish, Reply, Request
from llmreplay.shaping.faultkinds.content import ContentFault, call, first_tool, reply

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange


class BadToolArgs(ContentFault):
    name = "bad-tool-args"
    description = (
        "A call of the request's first tool whose arguments are not JSON (Gemini: finishReason "
        "MALFORMED_FUNCTION_CALL; Anthropic sends them streamed only, non-stream input is {})."
    )

    def make(self, ex: Exchange, req: Request) -> Reply:
        tool = first_tool(req)
        key = next(iter(tool.schema.get("properties") or {}), "query")
        # An unquoted value: no JSON parser, partial or not, reads it.
        said = call(ex, tool.name, "{" + json.dumps(key) + ": Paris, France}")
        return reply(ex, req, (said,), Finish.TOOL_CALLS)
