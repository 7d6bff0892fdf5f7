"""Reasoning a synthetic reply spends out of sight, as reasoning models report it in usage.

OpenAI's o-series and gpt-5 reason on every request and report it (``completion_tokens_details.reasoning_tokens``,
Responses' ``output_tokens_details.reasoning_tokens``) without showing it; Gemini 2.5 and 3 think and report
``thoughtsTokenCount`` whether or not ``includeThoughts`` shows the thoughts. The count is a deterministic
function of the request (its effort, or thinking budget, and its prompt), not of the reply's random draw, so
a streamed and a non-streamed call of the same request report the same figure. Claude reports its thinking
inside ``output_tokens``, shown: nothing is hidden there.

What the request asks (an effort, a thinking budget) each codec reads into ``Request.effort``. Claude's thinking is
shown (``Request.thinking``), never asked here: its families reason only on request.
"""

from __future__ import annotations

from llmreplay.catalogue.spec import Reasoning
from llmreplay.model import Request

EFFORT_TOKENS = {"minimal": 16, "low": 64, "medium": 192, "high": 640}
"""Hidden reasoning tokens per candidate for each effort (``medium`` when a reasoning request names none);
a share of the prompt (:data:`_PROMPT_SHARE`) is added, so a longer question takes longer thought."""
_PROMPT_SHARE = 16
"""One hidden token more per this many prompt tokens, up to :data:`_PROMPT_MAX`."""
_PROMPT_MAX = 256
_OFF = "off"
"""``Request.effort`` when the request turns reasoning off."""


def hidden_tokens(req: Request, reasoning: Reasoning, prompt_tokens: int) -> int:
    """Reasoning tokens each candidate of a reply to ``req`` spends unseen, for a family that reasons as
    ``reasoning`` says (0 for one that does not, or when the request turns it off)."""
    if reasoning == "none":
        return 0
    asked = req.effort
    if asked is None:
        if reasoning == "on-request":
            return 0
        asked = "medium"
    if asked == _OFF:
        if reasoning != "always":
            return 0
        asked = "minimal"  # an always-reasoning model cannot be turned off: it reasons as little as it may
    if isinstance(asked, int):
        budget = asked
        base = EFFORT_TOKENS["medium"] if budget < 0 else min(EFFORT_TOKENS["medium"], budget)
    else:
        base = EFFORT_TOKENS.get(asked, EFFORT_TOKENS["medium"])
    return base + min(_PROMPT_MAX, prompt_tokens // _PROMPT_SHARE)


def shows_item(req: Request, hidden: int) -> bool:
    """Whether a reply to ``req`` that reasons (``hidden`` > 0) carries its reasoning as a part although the
    request did not ask to see it: the Responses API lists a reasoning model's ``reasoning`` item in every
    output, its summary empty unless ``reasoning.summary`` asks for one."""
    return hidden > 0 and req.lists_reasoning and not req.thinking
