"""``refusal``: the model declines, in each API's own refusal form."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmreplay.model import Finish, Reply, Request, refusal
from llmreplay.shaping.faultkinds.content import ContentFault, reply

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange

WORDS = "I'm sorry, but I can't help with that."


class Refusal(ContentFault):
    name = "refusal"
    description = (
        "The model declines: OpenAI message.refusal (Responses: a refusal content part), Anthropic "
        "stop_reason refusal, Gemini finishReason SAFETY."
    )

    def make(self, ex: Exchange, req: Request) -> Reply:
        return reply(ex, req, (refusal(WORDS),), Finish.REFUSAL)
