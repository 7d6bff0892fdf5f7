"""``context-length``: the provider's own error for a prompt over the model's window."""

from __future__ import annotations

from typing import TYPE_CHECKING

from llmreplay.catalogue import limits
from llmreplay.errors import ApiError
from llmreplay.model import Request
from llmreplay.shaping.faultkinds.content import ContentFault, prompt_of

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange

NOMINAL_WINDOW = 128_000
"""The window named for a model the catalogue does not know."""


class ContextLength(ContentFault):
    name = "context-length"
    description = (
        "The provider's 400 for a prompt over the model's context window (the catalogue's window; "
        "OpenAI code context_length_exceeded, Anthropic 'prompt is too long', Gemini INVALID_ARGUMENT)."
    )

    def make(self, ex: Exchange, req: Request) -> ApiError:
        family = ex.family
        window = family.context_window if family is not None and family.context_window else NOMINAL_WINDOW
        # As if the prompt were a window longer than it is: over it by its own length.
        return limits.over_window(req, window + prompt_of(ex, req), window)
