"""``content-filter-prompt``: the provider's filter refuses the prompt before the model sees it."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Finish, Reply, Request
from llmreplay.shaping.faultkinds.content import ContentFault, reply

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange

FILTERED = (
    "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please "
    "modify your prompt and retry. To learn more about our content filtering policies please read our "
    "documentation: https://go.microsoft.com/fwlink/?linkid=2198766"
)
"""The 400 an OpenAI API (Azure's, which filters prompts) answers a filtered prompt with."""


class PromptFilter(ContentFault):
    name = "content-filter-prompt"
    description = (
        "A filter refuses the prompt: OpenAI APIs a 400 with code content_filter (Azure's), Anthropic "
        "stop_reason refusal with no content, Gemini no candidates and promptFeedback.blockReason SAFETY."
    )

    def make(self, ex: Exchange, req: Request) -> Reply | ApiError:
        if req.api.startswith("openai"):
            return ApiError(ErrorKind.INVALID_REQUEST, FILTERED, param="prompt", code="content_filter")
        return reply(ex, req, (), Finish.BLOCKED)
