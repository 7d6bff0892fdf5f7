"""A request over its model's limits, refused as the provider refuses it.

Two limits, each the catalogue family's: the context window (the prompt's token estimate, the one
``count_tokens`` and usage report) and the maximum output (``max_tokens``, ``max_completion_tokens``,
``max_output_tokens``, ``maxOutputTokens``). The wording of each provider's 400 has its home here, taken
from real answers:

- OpenAI Chat: ``This model's maximum context length is W tokens. However, your messages resulted in N tokens.
  Please reduce the length of the messages.`` (``code: context_length_exceeded``, ``param: messages``);
  ``max_tokens is too large: M. This model supports at most X completion tokens, whereas you provided M.``
  (``param`` the field sent, ``code: null``).
- OpenAI legacy Completions, whose window holds the completion too: ``This model's maximum context length is W
  tokens, however you requested N+M tokens (N in your prompt; M for the completion). Please reduce your
  prompt; or completion length.``
- OpenAI Responses: ``Your input exceeds the context window of this model. Please adjust your input and try
  again.`` (``code: context_length_exceeded``, ``param: input``).
- Anthropic: ``prompt is too long: N tokens > W maximum``; ``max_tokens: M > X, which is the maximum allowed
  number of output tokens for MODEL``.
- Gemini: ``The input token count (N) exceeds the maximum number of tokens allowed (W).``; ``Unable to submit
  request because it has a maxOutputTokens value of M but the supported range is from 1 (inclusive) to X+1
  (exclusive). Update the value and try again.`` (status ``INVALID_ARGUMENT``).
"""

from __future__ import annotations

from collections.abc import Callable

from llmreplay.catalogue.catalogue import Family
from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Request

CONTEXT_LENGTH_EXCEEDED = "context_length_exceeded"


def enforce(on: bool, family: Family | None, req: Request | None, prompt_tokens: Callable[[], int]) -> None:
    """:func:`check`, when enforcement is ``on`` and there is a request. The road asks it only for an answer
    made here (the synthetic source, a rule's written reply): a recording the real service made replays
    whatever the estimate says of its prompt, and the upstream judges what is forwarded to it."""
    if on and family is not None and req is not None:
        check(family, req, prompt_tokens)


def check(family: Family, req: Request, prompt_tokens: Callable[[], int]) -> None:
    """Raise the provider's 400 when ``req`` asks more than ``family`` allows; ``prompt_tokens`` is called
    only when the family has a window (it is a pass over the whole prompt)."""
    top = family.max_output_tokens
    if top is not None and req.max_tokens is not None and req.max_tokens > top:
        raise _TOO_MANY_OUT.get(req.api, _openai_too_many_out)(req, req.max_tokens, top)
    window = family.context_window
    if window is not None and not family.embedding:
        n = prompt_tokens()
        # The legacy endpoint counts the completion it may write into the window too.
        asked = req.max_tokens or 0 if req.api in _WINDOW_HOLDS_COMPLETION else 0
        if n + asked > window:
            raise over_window(req, n, window)


def over_window(req: Request, n: int, window: int) -> ApiError:
    """The provider's 400 for a prompt of ``n`` tokens over a ``window``-token window (also the
    ``context-length`` fault's answer)."""
    return _TOO_LONG.get(req.api, _chat_too_long)(req, n, window)


def _completion_too_long(req: Request, n: int, window: int) -> ApiError:
    asked = req.max_tokens or 0
    return ApiError(
        ErrorKind.INVALID_REQUEST,
        f"This model's maximum context length is {window} tokens, however you requested {n + asked} tokens ({n} in "
        f"your prompt; {asked} for the completion). Please reduce your prompt; or completion length.",
        param="prompt",
        code=CONTEXT_LENGTH_EXCEEDED,
    )


def _anthropic_too_long(req: Request, n: int, window: int) -> ApiError:
    return ApiError(ErrorKind.INVALID_REQUEST, f"prompt is too long: {n} tokens > {window} maximum")


def _gemini_too_long(req: Request, n: int, window: int) -> ApiError:
    return ApiError(
        ErrorKind.INVALID_REQUEST,
        f"The input token count ({n}) exceeds the maximum number of tokens allowed ({window}).",
    )


def _responses_too_long(req: Request, n: int, window: int) -> ApiError:
    return ApiError(
        ErrorKind.INVALID_REQUEST,
        "Your input exceeds the context window of this model. Please adjust your input and try again.",
        param="input",
        code=CONTEXT_LENGTH_EXCEEDED,
    )


def _chat_too_long(req: Request, n: int, window: int) -> ApiError:
    return ApiError(
        ErrorKind.INVALID_REQUEST,
        f"This model's maximum context length is {window} tokens. However, your messages resulted in {n} tokens. "
        "Please reduce the length of the messages.",
        param="messages",
        code=CONTEXT_LENGTH_EXCEEDED,
    )


def _anthropic_too_many_out(req: Request, asked: int, top: int) -> ApiError:
    return ApiError(
        ErrorKind.INVALID_REQUEST,
        f"max_tokens: {asked} > {top}, which is the maximum allowed number of output tokens for {req.model}",
    )


def _gemini_too_many_out(req: Request, asked: int, top: int) -> ApiError:
    return ApiError(
        ErrorKind.INVALID_REQUEST,
        f"Unable to submit request because it has a maxOutputTokens value of {asked} but the supported range "
        f"is from 1 (inclusive) to {top + 1} (exclusive). Update the value and try again.",
    )


def _openai_too_many_out(req: Request, asked: int, top: int) -> ApiError:
    # OpenAI names the spelling of the output limit the request used in the error's param.
    field = _OUTPUT_FIELD.get(req.api) or (
        "max_completion_tokens" if req.body.get("max_completion_tokens") is not None else "max_tokens"
    )
    return ApiError(
        ErrorKind.INVALID_REQUEST,
        f"{field} is too large: {asked}. This model supports at most {top} completion tokens, whereas you "
        f"provided {asked}.",
        param=field,
    )


_Builder = Callable[[Request, int, int], ApiError]
_TOO_LONG: dict[str, _Builder] = {
    "openai-completions": _completion_too_long,
    "openai-responses": _responses_too_long,
    "anthropic-messages": _anthropic_too_long,
    "gemini": _gemini_too_long,
}
"""Each API's 400 for a prompt over the window, by ``Request.api``; OpenAI Chat's for any other."""
_TOO_MANY_OUT: dict[str, _Builder] = {"anthropic-messages": _anthropic_too_many_out, "gemini": _gemini_too_many_out}
"""Each API's 400 for an output limit over the maximum; OpenAI's wording for any other."""
_OUTPUT_FIELD: dict[str, str] = {"openai-responses": "max_output_tokens"}
"""The output limit's one spelling, for the APIs that have only one."""
_WINDOW_HOLDS_COMPLETION = frozenset({"openai-completions"})
"""The APIs whose window holds the completion too (legacy Completions)."""
