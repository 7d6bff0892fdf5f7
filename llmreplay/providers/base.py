"""The codec contract and what all codecs share.

A codec turns one provider API's HTTP calls into the neutral model and the model
back into that API's exact bytes:

- ``parse_request(call)``: :class:`Call` → :class:`Request`, or raise :class:`ApiError`
  naming the offending field;
- ``render(reply, request, opts)``: :class:`Reply` → :class:`Answer` (a stream of
  frames when ``request.stream``, else one body);
- ``render_error(error, opts)``: :class:`ApiError` → :class:`Answer` in the provider's envelope;
- ``parse_events(body)`` / ``encode_events(events)``: a recorded stream body ↔ typed events;
- ``events_to_reply(events)`` / ``body_to_reply(body)``: a recorded stream or body → Reply.

Simple operations (models, embeddings, token counts) are plain functions
``(call, opts) -> Answer`` listed in the provider module's ``ROUTES``.
"""

from __future__ import annotations

import json
import re
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, TypeVar

import orjson
import pydantic

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Answer, Call, Frame, Quota, Reply, Request, Text, Thinking, ToolCall


@dataclass(frozen=True, slots=True)
class RenderOptions:
    """Per-answer choices a codec needs but cannot make itself."""

    chunk_size: int = 10
    """Characters of text (or of tool arguments) per streamed content frame."""
    request_id: str = "0" * 32
    """32 hex digits; codecs format it as their request-id header."""
    seed: int = 0
    """For values a codec draws itself (logprobs, padding), so replies stay reproducible."""


@dataclass(frozen=True, slots=True)
class StreamEvent:
    """One event of a recorded or rendered stream, typed by the codec."""

    type: str
    """``message_start``, ``response.output_text.delta``, ``chunk``, ``done`` …"""
    data: Any
    """The event's JSON payload (``None`` for ``[DONE]``)."""
    raw: bytes
    """The exact bytes of the event."""


SimpleOp = Callable[[Call, RenderOptions], Answer]


@dataclass(frozen=True, slots=True)
class Route:
    """One HTTP route of a provider API."""

    method: str
    path: str
    """aiohttp path pattern (``{model:[^/:]+}`` captures go to ``Call.params``)."""
    endpoint: str
    """Configuration / metrics name (``chat-completions``, ``gemini``, ``embeddings`` …)."""
    codec: Codec
    """Renders this route's errors; for ``generate`` routes, also its requests and replies."""
    op: SimpleOp | None = None
    """None for a generation route; otherwise the function that answers it."""


class Codec(ABC):
    """One provider API's wire format, and the facts about it that code elsewhere asks for.

    The facts are class attributes so that the rest of the server asks the codec (or
    :mod:`llmreplay.providers.registry`, which gathers them from every codec) instead of
    branching on a provider's name.
    """

    api: ClassVar[str]
    endpoint: ClassVar[str]

    stream_error_kind: ClassVar[ErrorKind] = ErrorKind.SERVER
    """The error this provider's streams fail with mid-way (an injected ``stream-error``)."""
    credential_headers: ClassVar[tuple[str, ...]] = ()
    """Request headers (lower case) that carry the caller's API key: quotas digest them, cassettes scrub them."""
    credential_query: ClassVar[tuple[str, ...]] = ()
    """Query parameters that carry the API key."""
    account_headers: ClassVar[tuple[str, ...]] = ()
    """Headers naming the caller's organisation or project: not a key, but kept out of cassettes too."""
    stream_paths: ClassVar[Mapping[str, str]] = {}
    """Path endings that ask for a stream (where the body cannot), each with its non-stream twin."""
    framing_query: ClassVar[frozenset[str]] = frozenset()
    """Query parameters that only choose how a stream is framed; matching leaves them out."""
    volatile_fields: ClassVar[tuple[str, ...]] = ()
    """Request body fields that tag a request without changing the answer; matching leaves them out."""

    def same_framing(self, recorded_query: Sequence[tuple[str, str]], request: Request) -> bool:
        """Whether a stream recorded with ``recorded_query`` is framed as ``request`` wants its stream."""
        return True

    def path_alias(self, path: str) -> str | None:
        """The path of one of this codec's routes that ``path`` (served elsewhere) stands for, if any."""
        return None

    @abstractmethod
    def parse_request(self, call: Call) -> Request: ...

    @abstractmethod
    def render(self, reply: Reply, request: Request, opts: RenderOptions) -> Answer: ...

    @abstractmethod
    def render_error(self, error: ApiError, opts: RenderOptions) -> Answer: ...

    @abstractmethod
    def parse_events(self, body: bytes) -> list[StreamEvent]: ...

    @abstractmethod
    def encode_events(self, events: list[StreamEvent]) -> bytes: ...

    @abstractmethod
    def events_to_reply(self, events: list[StreamEvent]) -> Reply: ...

    @abstractmethod
    def body_to_reply(self, body: bytes) -> Reply: ...

    def quota_headers(self, quota: Quota) -> dict[str, str]:
        """This provider's rate-limit headers for ``quota`` (none by default: Gemini sends none)."""
        return {}

    def in_stream_error(self, error: ApiError, opts: RenderOptions, sent: Sequence[Frame] = ()) -> bytes | None:
        """The bytes of this provider's error event inside an open stream, if it has one.

        ``sent`` holds the frames already sent, for codecs whose error event refers to
        the open stream (OpenAI Responses' ``response.failed`` carries its id and the next
        ``sequence_number``).
        """
        return None


# ---- JSON --------------------------------------------------------------------

_orjson_dumps = orjson.dumps
_ORJSON_OPTIONS = orjson.OPT_NON_STR_KEYS


def dumps(obj: Any) -> bytes:
    """Compact JSON as the providers send it (UTF-8, no spaces).

    orjson encodes the dozens of chunks of a stream about ten times faster than the
    standard library, all before the first byte; the standard library stays the
    fallback for what orjson refuses (integers beyond 64 bits).
    """
    try:
        return _orjson_dumps(obj, option=_ORJSON_OPTIONS)
    except TypeError:
        return stdlib_dumps(obj, ",", ":")


def stdlib_dumps(obj: Any, item_sep: str, key_sep: str, indent: int | None = None) -> bytes:
    """The standard library's JSON; a lone surrogate echoed from the client (JSON allows ``"\\ud800"``) is
    written escaped, since it has no UTF-8 form."""
    try:
        return json.dumps(obj, ensure_ascii=False, separators=(item_sep, key_sep), indent=indent).encode()
    except UnicodeEncodeError:
        return json.dumps(obj, separators=(item_sep, key_sep), indent=indent).encode()


def json_answer(
    status: int, obj: Any, headers: Mapping[str, str] | None = None, content_type: str = "application/json"
) -> Answer:
    hs = [("content-type", content_type)]
    if headers:
        hs.extend(headers.items())
    return Answer(status=status, headers=tuple(hs), frames=(Frame(dumps(obj)),))


# ---- request validation --------------------------------------------------------

M = TypeVar("M", bound=pydantic.BaseModel)


class Body(pydantic.BaseModel):
    """Base of the pydantic models of provider request bodies: unknown fields are kept."""

    model_config = pydantic.ConfigDict(extra="allow", populate_by_name=True)


def load_json(call: Call) -> Any:
    """The call's body as JSON, or an INVALID_REQUEST error that says why not."""
    if not call.body.strip():
        raise ApiError(ErrorKind.INVALID_REQUEST, "The request body is empty; expected a JSON object.")
    body = call.body
    plain = _NOT_FOR_ORJSON.search(body) is None
    may_nest = body.count(b"{") + body.count(b"[") > MAX_DEPTH  # fewer openings cannot nest deeper
    if plain or may_nest:
        try:
            data = _orjson_loads(body)
        except orjson.JSONDecodeError as exc:
            if str(exc).startswith("depth limit"):
                raise _too_deep() from None
            # Otherwise refused (NaN, a BOM, bad UTF-8, bad JSON): the standard library decides and words the error.
        else:
            if may_nest and _depth(data) > MAX_DEPTH:
                raise _too_deep()
            if plain:
                return data
    data = _stdlib_loads(body)
    if _SURROGATE_HINT.search(body) and _has_lone_surrogate(data):
        raise ApiError(
            ErrorKind.INVALID_REQUEST,
            "The request body is not valid JSON: it holds a lone UTF-16 surrogate, which is no character.",
        )
    return data


MAX_DEPTH = 128
"""The deepest nesting of objects and arrays a request body may have. The code that walks a request (schema
checks and fakes, content) recurses, a few frames a level; bodies near Python's recursion limit made it, or
the standard parser, run out of stack with the garbage collector free to run finalizers at that depth,
which then fail. Measured on orjson's parse, which does not recurse in Python; no real request comes near
(strict structured outputs allow 10 levels)."""


def _depth(data: Any) -> int:
    """How deep ``data`` nests, walked without recursion; stops counting past :data:`MAX_DEPTH`."""
    deepest = 0
    todo: list[tuple[Any, int]] = [(data, 1)]
    while todo:
        node, level = todo.pop()
        if level > deepest:
            deepest = level
            if deepest > MAX_DEPTH:
                break
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else ()
        todo.extend((child, level + 1) for child in children if isinstance(child, (dict, list)))
    return deepest


def _too_deep() -> ApiError:
    return ApiError(ErrorKind.INVALID_REQUEST, f"The request body is nested too deeply: more than {MAX_DEPTH} levels.")


_orjson_loads = orjson.loads


def _stdlib_loads(body: bytes) -> Any:
    """What orjson refuses is parsed again by the standard library, which decides as before: it accepts
    integers beyond 64 bits, NaN, a BOM and UTF-16 or UTF-32 bodies, and words its errors for the client."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(ErrorKind.INVALID_REQUEST, f"The request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise _too_deep() from None


_SURROGATE_HINT = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}|\xed[\xa0-\xbf]|\x00")
"""Where a lone surrogate can come from, all rare, so only then is the parsed body checked: a ``\\uD800``
escape; a surrogate encoded as UTF-8 bytes, which the standard parser lets through ("surrogatepass"); a body
in UTF-16 or UTF-32 (NUL bytes), which may hold one."""

_NOT_FOR_ORJSON = re.compile(rb"\d{20}|" + _SURROGATE_HINT.pattern)
"""Bodies parsed by the standard library only: orjson reads integers beyond 64 bits as floats, and whatever
may hold a surrogate is checked after the standard parser."""


def _has_lone_surrogate(data: Any) -> bool:
    # Paired escapes were joined by the parser; an unpaired one cannot be encoded as UTF-8.
    try:
        json.dumps(data, ensure_ascii=False).encode()
    except UnicodeEncodeError:
        return True
    return False


def validate(model: type[M], call: Call) -> M:
    """Parse the call's JSON body into ``model``, mapping failures to INVALID_REQUEST errors."""
    data = load_json(call)
    if not isinstance(data, dict):
        raise ApiError(ErrorKind.INVALID_REQUEST, "The request body must be a JSON object.")
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise validation_error(exc) from None


_UNION_TAGS = ("function-", "tagged-union", "list[", "dict[", "literal[")
_TYPE_TAGS = frozenset({"str", "int", "float", "bool", "list", "dict"})


def validation_error(exc: pydantic.ValidationError) -> ApiError:
    """The first field error as an ApiError whose ``param`` is the dotted field path."""
    err = exc.errors(include_url=False)[0]
    loc = [str(x) for x in err["loc"]]
    # pydantic adds union-member tags to the location; they mean nothing to the client.
    loc = [x for x in loc if not x.startswith(_UNION_TAGS) and x not in _TYPE_TAGS]
    param = ".".join(loc) or None
    if err["type"] == "missing":
        msg = f"Missing required parameter: '{param}'."
    else:
        got = err.get("input")
        shown = json.dumps(got)[:80] if isinstance(got, str | int | float | bool | type(None)) else type(got).__name__
        msg = f"Invalid value for '{param}': {err['msg']} (got {shown})."
    code = "missing_required_parameter" if err["type"] == "missing" else "invalid_value"
    return ApiError(ErrorKind.INVALID_REQUEST, msg, param=param, code=code)


# ---- stream planning -------------------------------------------------------------


def split(text: str, size: int) -> list[str]:
    """``text`` in pieces of ``size`` characters (at least one piece, possibly empty)."""
    size = max(1, size)
    return [text[i : i + size] for i in range(0, len(text), size)] or [""]


def content_steps(reply: Reply, chunk_size: int) -> int:
    """Paced frames a stream of ``reply`` carries: one per text/thinking/argument piece.

    Non-stream answers use it as ``Answer.steps`` so that they take as long as the
    same reply would have taken streamed.
    """
    steps = 0
    for c in reply.candidates:
        for p in c.parts:
            if isinstance(p, Text | Thinking):
                steps += len(split(p.text, chunk_size))
            elif isinstance(p, ToolCall):
                steps += len(split(p.arguments, chunk_size))
    return max(1, steps)
