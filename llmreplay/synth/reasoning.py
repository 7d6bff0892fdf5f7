"""Reasoning a synthetic reply spends out of sight, as reasoning models report it in usage.

OpenAI's o-series and gpt-5 reason on every request and report it (``completion_tokens_details.reasoning_tokens``,
Responses' ``output_tokens_details.reasoning_tokens``) without showing it; Gemini 2.5 and 3 think and report
``thoughtsTokenCount`` whether or not ``includeThoughts`` shows the thoughts. The count is a deterministic
function of the request (its effort, or thinking budget, and its prompt), not of the reply's random draw, so
a streamed and a non-streamed call of the same request report the same figure. Claude reports its thinking
inside ``output_tokens``, shown: nothing is hidden there.

Which request fields say it is read from the parsed body (``Request.body``) by API, here only: the codecs'
request models leave effort and budgets aside, as they do not change what a reply holds.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from llmreplay.catalogue.spec import Reasoning
from llmreplay.model import Request

EFFORT_TOKENS = {"minimal": 16, "low": 64, "medium": 192, "high": 640}
"""Hidden reasoning tokens per candidate for each effort (``medium`` when a reasoning request names none);
a share of the prompt (:data:`_PROMPT_SHARE`) is added, so a longer question takes longer thought."""
_PROMPT_SHARE = 16
"""One hidden token more per this many prompt tokens, up to :data:`_PROMPT_MAX`."""
_PROMPT_MAX = 256
_OFF = "off"


def hidden_tokens(req: Request, reasoning: Reasoning, prompt_tokens: int) -> int:
    """Reasoning tokens each candidate of a reply to ``req`` spends unseen, for a family that reasons as
    ``reasoning`` says (0 for one that does not, or when the request turns it off)."""
    if reasoning == "none" or req.api == "anthropic-messages":
        return 0
    asked = _asked(req)
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
    return hidden > 0 and req.api == "openai-responses" and not req.thinking


def _asked(req: Request) -> str | int | None:
    """What the request says of reasoning: an effort name, a Gemini thinking budget (-1: dynamic), ``off``, or
    None when it says nothing."""
    body = req.body
    if req.api == "gemini":
        gc = _get(body, "generationConfig", "generation_config")
        tc = _get(gc, "thinkingConfig", "thinking_config")
        budget = _get(tc, "thinkingBudget", "thinking_budget")
        if isinstance(budget, int) and not isinstance(budget, bool):
            return _OFF if budget == 0 else budget
        level = _get(tc, "thinkingLevel", "thinking_level")
        return level.lower() if isinstance(level, str) else None
    responses = req.api == "openai-responses"
    effort = _get(_get(body, "reasoning"), "effort") if responses else body.get("reasoning_effort")
    if not isinstance(effort, str):
        return None
    return _OFF if effort == "none" else effort


def _get(obj: Any, *names: str) -> Any:
    if not isinstance(obj, Mapping):
        return None
    for n in names:
        if n in obj:
            return obj[n]
    return None
