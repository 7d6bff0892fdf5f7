"""What all codecs share: JSON in and out, request validation, text splitting.

The codec contract itself (:class:`Codec`, :class:`Route`, :class:`RenderOptions`,
:class:`StreamEvent`) is :mod:`llmreplay.codec`, re-exported here for the codecs.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, TypeVar

import orjson
import pydantic

from llmreplay.codec import Codec as Codec  # the contract, re-exported for the codecs
from llmreplay.codec import RenderOptions as RenderOptions
from llmreplay.codec import Route as Route
from llmreplay.codec import SimpleOp as SimpleOp
from llmreplay.codec import StreamEvent as StreamEvent
from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Answer, Call, Frame, Reply, Text, Thinking, ToolCall
from llmreplay.providers import json_caps
from llmreplay.providers.json_caps import MAX_DEPTH, too_deep

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


class Template:
    """A JSON document cut once around its slots, so that filling it encodes only the values that change.

    ``doc`` holds :func:`slot` markers where values go; :meth:`fill` gives the bytes :func:`dumps` would give
    for the document with those values in place, or None when a value is one orjson refuses (the caller then
    encodes the whole document as usual).
    """

    def __init__(self, doc: Any) -> None:
        cut = re.split(rb'"\x00slot(\d+)\x00"', _orjson_dumps(doc).replace(b"\\u0000", b"\x00"))
        self._pieces = cut[0::2]
        self._order = [int(i) for i in cut[1::2]]

    def fill(self, *values: Any) -> bytes | None:
        out = [self._pieces[0]]
        try:
            for i, piece in zip(self._order, self._pieces[1:], strict=True):
                out.append(_orjson_dumps(values[i]))
                out.append(piece)
        except TypeError:
            return None
        return b"".join(out)


def slot(i: int) -> str:
    """The marker of a :class:`Template`'s ``i``-th value."""
    return f"\x00slot{i}\x00"


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
    json_caps.check(body)
    plain = _for_orjson(body)
    may_nest = body.count(b"{") + body.count(b"[") > MAX_DEPTH  # fewer openings cannot nest deeper
    if plain or may_nest:
        try:
            data = _orjson_loads(body)
        except orjson.JSONDecodeError as exc:
            if str(exc).startswith("depth limit"):
                raise too_deep() from None
            # Otherwise refused (NaN, a BOM, bad UTF-8, bad JSON): the standard library decides and words the error.
        else:
            if may_nest and _depth(data) > MAX_DEPTH:
                raise too_deep()
            if plain:
                return data
    data = _stdlib_loads(body)
    if json_caps.search(_SURROGATE_HINT, body, longest=6) and _has_lone_surrogate(data):
        raise ApiError(
            ErrorKind.INVALID_REQUEST,
            "The request body is not valid JSON: it holds a lone UTF-16 surrogate, which is no character.",
        )
    return data


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


_orjson_loads = orjson.loads


def _stdlib_loads(body: bytes) -> Any:
    """What orjson refuses is parsed again by the standard library, which decides as before: it accepts
    integers beyond 64 bits, NaN, a BOM and UTF-16 or UTF-32 bodies, and words its errors for the client."""
    try:
        return json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ApiError(ErrorKind.INVALID_REQUEST, f"The request body is not valid JSON: {exc}") from None
    except RecursionError:
        raise too_deep() from None


_SURROGATE_HINT = re.compile(rb"\\u[dD][89a-fA-F][0-9a-fA-F]{2}|\xed[\xa0-\xbf]|\x00")
"""Where a lone surrogate can come from, all rare, so only then is the parsed body checked: a ``\\uD800``
escape; a surrogate encoded as UTF-8 bytes, which the standard parser lets through ("surrogatepass"); a body
in UTF-16 or UTF-32 (NUL bytes), which may hold one."""

_NOT_FOR_ORJSON = re.compile(rb"\d{20}|" + _SURROGATE_HINT.pattern)
"""Bodies parsed by the standard library only: orjson reads integers beyond 64 bits as floats, and whatever
may hold a surrogate is checked after the standard parser."""

_DIGITS_AS_ZERO = bytes.maketrans(b"0123456789", b"0" * 10)
_SMALL = 4096
"""Bytes of body below which :func:`_for_orjson` looks with substring searches (each one pass in C over a copy
of so small a body) rather than the regex, which tries its alternatives at every byte (4 of a chat request's
5 us of reading)."""


def _for_orjson(body: bytes) -> bool:
    """Whether :data:`_NOT_FOR_ORJSON` finds nothing in ``body``: no run of 20 digits, no surrogate hint."""
    if len(body) > _SMALL:
        return json_caps.search(_NOT_FOR_ORJSON, body, longest=20) is None
    if b"00000000000000000000" in body.translate(_DIGITS_AS_ZERO):
        return False
    # Each alternative of the hint holds one of these bytes; only a body with one is searched.
    return not (b"\\u" in body or b"\xed" in body or b"\x00" in body) or _SURROGATE_HINT.search(body) is None


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
                steps += pieces_of(p.text, chunk_size)
            elif isinstance(p, ToolCall):
                steps += pieces_of(p.arguments, chunk_size)
    return max(1, steps)


def pieces_of(text: str, size: int) -> int:
    """``len(split(text, size))``, without cutting the text."""
    return max(1, -(-len(text) // max(1, size)))
