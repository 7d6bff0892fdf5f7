"""``content-filter-prompt``: the provider's filter refuses the prompt before the model sees it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmreplay.errors import ApiError
from llmreplay.model import Finish, Reply, Request
from llmreplay.shaping.faultkinds.content import ContentFault, reply

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange


class PromptFilter(ContentFault):
    name = "content-filter-prompt"
    description = (
        "A filter refuses the prompt: OpenAI APIs a 400 with code content_filter (Azure's), Anthropic "
        "stop_reason refusal with no content, Gemini no candidates and promptFeedback.blockReason SAFETY."
    )

    def make(self, ex: Exchange, req: Request) -> Reply | ApiError:
        refused = ex.route.codec.prompt_filtered()
        return refused if refused is not None else reply(ex, req, (), Finish.BLOCKED)
