"""``content-filter``: the provider's filter stops the output."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmreplay.model import Finish, Reply, Request
from llmreplay.shaping.faultkinds.content import ContentFault, reply

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange


class ContentFilter(ContentFault):
    name = "content-filter"
    description = (
        "A filter stops the output: OpenAI finish_reason content_filter (Responses: incomplete, reason "
        "content_filter), Anthropic stop_reason refusal, Gemini finishReason SAFETY with safetyRatings."
    )

    def make(self, ex: Exchange, req: Request) -> Reply:
        return reply(ex, req, (), Finish.CONTENT_FILTER)
