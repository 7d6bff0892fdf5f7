"""What every OpenAI API shares: the error envelope and the standard response headers."""

from __future__ import annotations

import math

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Answer, Quota
from llmreplay.providers.base import RenderOptions, json_answer

CREDENTIAL_HEADERS = ("authorization", "api-key")
"""``Authorization: Bearer``, and Azure OpenAI's ``api-key``."""
ACCOUNT_HEADERS = ("openai-organization", "openai-project")
VOLATILE_FIELDS = (
    "user",
    "metadata",
    "stream_options",
    "store",
    "service_tier",
    "prompt_cache_key",
    "safety_identifier",
)
"""Body fields that tag a request (end user, metadata, caching, storage, tier) without changing what the model says.
``seed`` and ``previous_response_id`` are not here: they do change it."""
SAMPLING_FIELDS = (
    "temperature",
    "top_p",
    "n",
    "stop",
    "seed",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
)
"""OpenAI's sampling settings, shared by Chat and Completions: each changes what the model says."""

# kind -> (status, type, default code)
_ERRORS: dict[ErrorKind, tuple[int, str, str | None]] = {
    ErrorKind.INVALID_REQUEST: (400, "invalid_request_error", None),
    ErrorKind.AUTHENTICATION: (401, "invalid_request_error", "invalid_api_key"),
    ErrorKind.PERMISSION: (403, "permission_error", None),
    ErrorKind.NOT_FOUND: (404, "invalid_request_error", None),
    ErrorKind.METHOD_NOT_ALLOWED: (405, "invalid_request_error", None),
    ErrorKind.REQUEST_TOO_LARGE: (413, "invalid_request_error", "request_too_large"),
    ErrorKind.UNPROCESSABLE: (422, "invalid_request_error", None),
    ErrorKind.RATE_LIMIT: (429, "requests", "rate_limit_exceeded"),
    ErrorKind.SERVER: (500, "server_error", None),
    ErrorKind.BAD_GATEWAY: (502, "server_error", None),
    ErrorKind.UNAVAILABLE: (503, "server_error", "service_unavailable"),
    ErrorKind.TIMEOUT: (504, "server_error", "timeout"),
    ErrorKind.OVERLOADED: (503, "server_error", "engine_overloaded"),
}


def base_headers(opts: RenderOptions) -> dict[str, str]:
    """Headers the real service puts on every answer."""
    return {
        "x-request-id": f"req_{opts.request_id}",
        "openai-version": "2020-10-01",
        "openai-processing-ms": "1",
    }


def error_object(error: ApiError) -> dict[str, object]:
    """The inner ``{message, type, param, code}`` object."""
    _, etype, code = _ERRORS.get(error.kind, (500, "server_error", None))
    return {"message": error.message, "type": etype, "param": error.param, "code": error.code or code}


def error_status(error: ApiError) -> int:
    return error.status if error.status is not None else _ERRORS.get(error.kind, (500,))[0]


def render_error(error: ApiError, opts: RenderOptions) -> Answer:
    """``{"error": {message, type, param, code}}`` with the kind's status."""
    headers = base_headers(opts)
    headers.update(error.headers)
    return json_answer(error_status(error), {"error": error_object(error)}, headers)


def go_duration(seconds: float) -> str:
    """A Go-style duration as ``x-ratelimit-reset-*`` carries it: ``2ms``, ``1s``, ``6m0s``, ``1h2m3.5s``."""
    if seconds < 1:
        return f"{max(0, round(seconds * 1000))}ms"
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    sec = f"{s:.3f}".rstrip("0").rstrip(".")
    if h:
        return f"{int(h)}h{int(m)}m{sec}s"
    if m:
        return f"{int(m)}m{sec}s"
    return f"{sec}s"


PROMPT_FILTERED = (
    "The response was filtered due to the prompt triggering Azure OpenAI's content management policy. Please "
    "modify your prompt and retry. To learn more about our content filtering policies please read our "
    "documentation: https://go.microsoft.com/fwlink/?linkid=2198766"
)


def effort(value: object) -> str | None:
    """A reasoning effort as the neutral request holds it (``none`` turns reasoning off)."""
    if not isinstance(value, str):
        return None
    return "off" if value == "none" else value


def prompt_filtered() -> ApiError:
    """The 400 an OpenAI API answers a filtered prompt with (Azure's, which filters prompts)."""
    return ApiError(ErrorKind.INVALID_REQUEST, PROMPT_FILTERED, param="prompt", code="content_filter")


def quota_headers(quota: Quota) -> dict[str, str]:
    """``x-ratelimit-{limit,remaining,reset}-{requests,tokens}``, and ``retry-after(-ms)`` on a denial."""
    out: dict[str, str] = {}
    for unit, q in (("requests", quota.requests), ("tokens", quota.tokens)):
        if q is not None:
            out[f"x-ratelimit-limit-{unit}"] = str(q.limit)
            out[f"x-ratelimit-remaining-{unit}"] = str(q.remaining)
            out[f"x-ratelimit-reset-{unit}"] = go_duration(q.reset_after)
    if quota.retry_after is not None:
        out["retry-after"] = str(math.ceil(quota.retry_after))
        out["retry-after-ms"] = str(max(1, round(quota.retry_after * 1000)))
    return out
