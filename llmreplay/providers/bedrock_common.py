"""What every AWS Bedrock runtime answer shares: its request id, its error shapes, and its stream's exceptions.

An error is a status, an ``x-amzn-errortype`` header naming the exception (botocore reads the name from it, so
boto3 raises ``ThrottlingException``, ``ValidationException`` …) and a ``{"message": …}`` body. Inside an
event stream the same errors are ``exception`` messages whose ``:exception-type`` is the stream member's name
(``modelStreamErrorException``, ``throttlingException`` …): botocore raises them as ``EventStreamError``.
"""

from __future__ import annotations

from collections.abc import Sequence

from llmreplay import eventstream
from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Answer, Frame
from llmreplay.providers.base import Codec, RenderOptions, StreamEvent, dumps

# kind -> the exception boto3 raises; the status stays the error's own (an injected status keeps its number).
_EXCEPTIONS: dict[ErrorKind, str] = {
    ErrorKind.INVALID_REQUEST: "ValidationException",
    ErrorKind.AUTHENTICATION: "UnrecognizedClientException",
    ErrorKind.PERMISSION: "AccessDeniedException",
    ErrorKind.NOT_FOUND: "ResourceNotFoundException",
    ErrorKind.METHOD_NOT_ALLOWED: "ValidationException",
    ErrorKind.REQUEST_TOO_LARGE: "ValidationException",
    ErrorKind.UNPROCESSABLE: "ValidationException",
    ErrorKind.RATE_LIMIT: "ThrottlingException",
    ErrorKind.SERVER: "InternalServerException",
    ErrorKind.BAD_GATEWAY: "InternalServerException",
    ErrorKind.UNAVAILABLE: "ServiceUnavailableException",
    ErrorKind.TIMEOUT: "ModelTimeoutException",
    ErrorKind.OVERLOADED: "ServiceUnavailableException",
}

# Exceptions a response stream declares that a client can act on; any other failure mid-stream (a server error
# included) is the model's, as Bedrock reports a model that broke off while streaming.
_STREAM_EXCEPTIONS = frozenset({"ValidationException", "ThrottlingException", "ServiceUnavailableException"})
_MODEL_STREAM_ERROR = "ModelStreamErrorException"

_DEFAULT_MESSAGES: dict[ErrorKind, str] = {
    ErrorKind.RATE_LIMIT: "Too many requests, please wait before trying again.",
    ErrorKind.SERVER: "The server encountered an internal error while processing the request.",
    ErrorKind.UNAVAILABLE: "Service unavailable. Please try again later.",
    ErrorKind.OVERLOADED: "Service unavailable. Please try again later.",
    ErrorKind.TIMEOUT: "Model has timed out in processing the request.",
}

# Real answers name the exception's namespace after a colon; botocore keeps the part before it.
_NAMESPACE = ":http://internal.amazon.com/coral/com.amazon.bedrock/"


def request_id(opts: RenderOptions) -> str:
    """``x-amzn-requestid``: a UUID, formatted from the answer's 32 hex digits."""
    h = opts.request_id.rjust(32, "0")[:32]
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def base_headers(opts: RenderOptions) -> dict[str, str]:
    """Headers every Bedrock answer carries."""
    return {"x-amzn-requestid": request_id(opts)}


def exception_name(error: ApiError) -> str:
    return _EXCEPTIONS.get(error.kind, "InternalServerException")


_TOO_MANY_TOKENS = "Too many tokens, please wait before trying again."


def message_of(error: ApiError) -> str:
    if error.kind is ErrorKind.RATE_LIMIT:
        # Bedrock words every throttle alike, naming only what ran out, where llmreplay's own names the limit.
        quota = error.quota
        if quota is not None and quota.requests is None and quota.tokens is not None:
            return _TOO_MANY_TOKENS
        return _DEFAULT_MESSAGES[ErrorKind.RATE_LIMIT]
    return error.message or _DEFAULT_MESSAGES.get(error.kind, exception_name(error))


def render_error(error: ApiError, opts: RenderOptions) -> Answer:
    """Status, ``x-amzn-errortype`` and ``{"message": …}``."""
    headers = {
        "content-type": "application/json",
        **base_headers(opts),
        "x-amzn-errortype": exception_name(error) + _NAMESPACE,
        **error.headers,
    }
    return Answer(error.http_status, tuple(headers.items()), (Frame(dumps({"message": message_of(error)})),))


def stream_exception(error: ApiError) -> bytes:
    """The exception message that ends a broken stream: the stream's own member where it has one, else
    ``modelStreamErrorException`` with the status the model failed with."""
    name = exception_name(error)
    body: dict[str, object] = {"message": message_of(error)}
    if name not in _STREAM_EXCEPTIONS:
        name = _MODEL_STREAM_ERROR
        body.update(originalStatusCode=error.http_status, originalMessage=body["message"])
    return eventstream.exception(name[0].lower() + name[1:], dumps(body))


class BedrockCodec(Codec):
    """What Converse and InvokeModel share: SigV4 credentials, Bedrock's errors, the event-stream framing."""

    # SigV4 signs into Authorization; temporary credentials add a session token.
    credential_headers = ("authorization", "x-amz-security-token")
    # A presigned URL carries the same in its query (the access key id first: per-key quotas digest it).
    credential_query = ("X-Amz-Credential", "X-Amz-Signature", "X-Amz-Security-Token")

    def render_error(self, error: ApiError, opts: RenderOptions) -> Answer:
        return render_error(error, opts)

    def garble(self, data: bytes) -> bytes | None:
        return eventstream.garble(data)

    def in_stream_error(self, error: ApiError, opts: RenderOptions, sent: Sequence[Frame] = ()) -> bytes | None:
        return stream_exception(error)

    def encode_events(self, events: list[StreamEvent]) -> bytes:
        return b"".join(e.raw for e in events)


__all__ = [
    "BedrockCodec",
    "base_headers",
    "exception_name",
    "message_of",
    "render_error",
    "request_id",
    "stream_exception",
]
