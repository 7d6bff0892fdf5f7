"""llmreplay's exception tree.

::

    LLMReplayError                 base of everything we raise on purpose
    ├── ApiError                   answered to an API client in its provider's envelope
    └── ConfigError                a bad setting (CLI: one line, exit code 2)

An :class:`ApiError` names an :class:`ErrorKind`; each codec's ``render_error``
turns the kind into its provider's status, type string and body.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from llmreplay.model import Quota


class ErrorKind(enum.StrEnum):
    """Provider-neutral kinds of API error, with their usual HTTP status."""

    INVALID_REQUEST = "invalid_request"
    AUTHENTICATION = "authentication"
    PERMISSION = "permission"
    NOT_FOUND = "not_found"
    METHOD_NOT_ALLOWED = "method_not_allowed"
    REQUEST_TOO_LARGE = "request_too_large"
    UNPROCESSABLE = "unprocessable"
    RATE_LIMIT = "rate_limit"
    SERVER = "server"
    BAD_GATEWAY = "bad_gateway"
    UNAVAILABLE = "unavailable"
    TIMEOUT = "timeout"
    OVERLOADED = "overloaded"

    @property
    def status(self) -> int:
        return _STATUS[self]


_STATUS: dict[ErrorKind, int] = {
    ErrorKind.INVALID_REQUEST: 400,
    ErrorKind.AUTHENTICATION: 401,
    ErrorKind.PERMISSION: 403,
    ErrorKind.NOT_FOUND: 404,
    ErrorKind.METHOD_NOT_ALLOWED: 405,
    ErrorKind.REQUEST_TOO_LARGE: 413,
    ErrorKind.UNPROCESSABLE: 422,
    ErrorKind.RATE_LIMIT: 429,
    ErrorKind.SERVER: 500,
    ErrorKind.BAD_GATEWAY: 502,
    ErrorKind.UNAVAILABLE: 503,
    ErrorKind.TIMEOUT: 504,
    ErrorKind.OVERLOADED: 529,
}


def kind_for_status(status: int) -> ErrorKind:
    """The kind whose usual status is ``status`` (closest family otherwise)."""
    for kind, s in _STATUS.items():
        if s == status:
            return kind
    return ErrorKind.SERVER if status >= 500 else ErrorKind.INVALID_REQUEST


class LLMReplayError(Exception):
    """Base of llmreplay's own exceptions."""


@dataclass
class ApiError(LLMReplayError):
    """An error answered to the client in its provider's own envelope."""

    kind: ErrorKind
    message: str
    param: str | None = None
    """The offending request field, dotted (``messages.0.role``)."""
    code: str | None = None
    """Provider-specific code (OpenAI ``code``), when one is known."""
    status: int | None = None
    """Overrides the kind's usual status."""
    headers: dict[str, str] = field(default_factory=dict)
    """Extra response headers (``retry-after`` …)."""
    retry_after: float | None = None
    """Seconds the client should wait, for envelopes that carry it in the body (Gemini RetryInfo)."""
    quota: Quota | None = None
    """The quota a 429 ran out of, for envelopes that describe it in the body (Gemini QuotaFailure)."""
    model: str | None = None
    """The model the error is about, where the envelope names it (Gemini QuotaFailure's dimensions)."""

    def __post_init__(self) -> None:
        super().__init__(self.message)

    @property
    def http_status(self) -> int:
        return self.status if self.status is not None else self.kind.status


class ConfigError(LLMReplayError):
    """A setting that cannot be used; the message names it and what is allowed."""
