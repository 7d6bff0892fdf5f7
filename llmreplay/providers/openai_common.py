"""What every OpenAI API shares: the error envelope and the standard response headers."""

from __future__ import annotations

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Answer
from llmreplay.providers.base import RenderOptions, json_answer

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
