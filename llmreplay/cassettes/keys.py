"""Match keys: how a call or recorded request is reduced to the key the replay index files it under.

A match key is built from the parts named in :attr:`MatchConfig.match_on`. The body
part is the JSON body re-serialised with sorted keys after the volatile fields
(``user``, ``metadata`` …) are dropped, so two SDK versions that order keys
differently or tag requests differently still meet the same recording. ``stream``
is dropped too unless :attr:`MatchConfig.stream_in_key`: a recorded stream can
answer a plain request and the reverse, converted through the neutral model.

Paths no codec knows (``api`` None in the cassette) are opaque to us, so their
key is always the method, path, query and body bytes exactly.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from llmreplay.cassettes.model import RecordedRequest
from llmreplay.model import Call
from llmreplay.providers.registry import (
    CREDENTIAL_QUERY,
    FRAMING_QUERY,
    VOLATILE_FIELDS,
    match_route,
    stream_neutral_path,
)

DEFAULT_IGNORE: tuple[str, ...] = VOLATILE_FIELDS
"""Body fields that tag a request without changing the answer, as each codec declares them (``user``,
``metadata`` …). ``seed`` and ``previous_response_id`` are not among them: they change what the model says."""

SECRET_QUERY = frozenset(CREDENTIAL_QUERY)
"""Query parameters never part of a key (API keys sent in the query)."""

_MATCH_PARTS = frozenset({"method", "path", "query", "body", "model"})
MAX_DIFFS = 5
"""At most this many differing fields are reported for a miss."""
_MAX_VALUE = 60

RequestLike = Call | RecordedRequest


@dataclass(frozen=True)
class MatchConfig:
    """How calls are matched to recorded requests (vcrpy's ``match_on`` with an ignore list)."""

    match_on: tuple[str, ...] = ("method", "path", "body")
    """Any of ``method``, ``path``, ``query``, ``body``, ``model`` and ``headers:<name>``."""
    ignore: tuple[str, ...] = DEFAULT_IGNORE
    """Body fields left out of the key: top-level names or dotted paths (``*`` matches any
    key or list index, e.g. ``messages.*.name``)."""
    stream_in_key: bool = False
    """When False a recorded stream answers a plain request too, and the reverse."""
    repeat: Literal["last", "cycle", "none"] = "last"
    """After the recordings of a key are used up: repeat the last, start over, or miss."""

    def __post_init__(self) -> None:
        for part in self.match_on:
            if part not in _MATCH_PARTS and not (part.startswith("headers:") and len(part) > len("headers:")):
                allowed = ", ".join(sorted(_MATCH_PARTS))
                raise ValueError(f"match_on: unknown part {part!r} (allowed: {allowed}, headers:<name>)")
        if self.repeat not in ("last", "cycle", "none"):
            raise ValueError(f"repeat: {self.repeat!r} is not one of last, cycle, none")


# ---- request views -------------------------------------------------------------


def _query_pairs(req: RequestLike) -> list[tuple[str, str]]:
    items = req.query.items() if isinstance(req.query, Mapping) else req.query
    return sorted((str(k), str(v)) for k, v in items if k not in SECRET_QUERY)


def _header(req: RequestLike, name: str) -> str:
    name = name.lower()
    if isinstance(req.headers, Mapping):
        return str(req.headers.get(name, ""))
    return ",".join(v for k, v in req.headers if k.lower() == name)


def _stream_neutral_query(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [(k, v) for k, v in pairs if k not in FRAMING_QUERY]


def _drop(obj: Any, parts: list[str]) -> None:
    """Remove the dotted path ``parts`` from ``obj`` in place (``*`` = every key or index)."""
    head, rest = parts[0], parts[1:]
    if isinstance(obj, dict):
        keys = list(obj) if head == "*" else [head] if head in obj else []
        for k in keys:
            if rest:
                _drop(obj[k], rest)
            else:
                del obj[k]
    elif isinstance(obj, list):
        if head == "*":
            idx = list(range(len(obj)))
        elif head.isdigit() and int(head) < len(obj):
            idx = [int(head)]
        else:
            idx = []
        if rest:
            for i in idx:
                _drop(obj[i], rest)
        else:
            for i in reversed(idx):
                del obj[i]


def body_json(body: bytes, ignore: Iterable[str] = (), drop_stream: bool = False) -> Any:
    """The body as JSON with ignored fields removed; raises ``ValueError`` when it is not JSON."""
    if not body.strip():
        raise ValueError("empty body")
    try:
        obj = json.loads(body)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if isinstance(obj, dict | list):
        for path in ignore:
            _drop(obj, path.split("."))
        if drop_stream and isinstance(obj, dict):
            obj.pop("stream", None)
            obj.pop("stream_options", None)
    return obj


def canonical(obj: Any) -> str:
    """Compact JSON with sorted keys. Keys live only in memory (the index is built at load with this same
    function), so orjson's form serves: a fifth of the standard library's time, three times per lookup. What
    orjson refuses (integers past 64 bits, lone surrogates) takes the standard library's, for the same
    object every time."""
    try:
        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:
        return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def normalise_body(body: bytes, ignore: Iterable[str] = DEFAULT_IGNORE, stream_in_key: bool = False) -> str:
    """Canonical JSON of the body without ignored fields (and ``stream`` unless it is keyed);
    the SHA-256 of the bytes when the body is not JSON."""
    try:
        return canonical(body_json(body, ignore, drop_stream=not stream_in_key))
    except (ValueError, UnicodeDecodeError):
        return "sha256:" + hashlib.sha256(body).hexdigest()


def verbatim_key(req: RequestLike) -> str:
    """Key of an exchange on a path no codec knows: method, path, query and body exactly."""
    body = "sha256:" + hashlib.sha256(req.body).hexdigest()
    return canonical(["verbatim", req.method.upper(), req.path, _query_pairs(req), body])


def key_of(req: RequestLike, cfg: MatchConfig, verbatim: bool = False) -> str:
    """The match key of a call or recorded request."""
    if verbatim:
        return verbatim_key(req)
    parts: list[Any] = ["codec"]
    for part in cfg.match_on:
        if part == "method":
            parts.append(req.method.upper())
        elif part == "path":
            parts.append(req.path if cfg.stream_in_key else stream_neutral_path(req.path))
        elif part == "query":
            pairs = _query_pairs(req)
            parts.append(pairs if cfg.stream_in_key else _stream_neutral_query(pairs))
        elif part == "body":
            parts.append(normalise_body(req.body, cfg.ignore, cfg.stream_in_key))
        elif part == "model":
            parts.append(_model(req))
        else:
            parts.append(_header(req, part.split(":", 1)[1]))
    return canonical(parts)


def _model(req: RequestLike) -> str:
    try:
        obj = json.loads(req.body)
    except (ValueError, UnicodeDecodeError, RecursionError):
        obj = None
    if isinstance(obj, dict) and isinstance(obj.get("model"), str):
        return obj["model"]
    if isinstance(req, Call) and "model" in req.params:
        return str(req.params["model"])
    # The model named in the path (``/v1beta/models/<model>:generateContent``): the route's capture.
    found = match_route(req.method, req.path)
    return found[1].get("model", "") if found is not None else ""


# ---- differences -----------------------------------------------------------------


def _show(value: Any) -> str:
    if value is _ABSENT:
        return "(absent)"
    text = f"'{value}'" if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


class _Absent:
    pass


_ABSENT = _Absent()


def _walk(rec: Any, got: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    """Dotted paths at which two JSON trees differ, with the two values there."""
    if isinstance(rec, dict) and isinstance(got, dict):
        for k in sorted(set(rec) | set(got)):
            yield from _walk(rec.get(k, _ABSENT), got.get(k, _ABSENT), f"{path}.{k}" if path else str(k))
    elif isinstance(rec, list) and isinstance(got, list):
        for i in range(max(len(rec), len(got))):
            a = rec[i] if i < len(rec) else _ABSENT
            b = got[i] if i < len(got) else _ABSENT
            yield from _walk(a, b, f"{path}.{i}" if path else str(i))
    elif type(rec) is not type(got) or rec != got:
        yield (path or "body", rec, got)


def differences(recorded: RequestLike, got: RequestLike, cfg: MatchConfig, verbatim: bool = False) -> list[str]:
    """Every difference between two requests that matters to the key, one readable line each.

    ``verbatim``: the recording is on a path no codec knows, keyed on the exact query and bytes.
    """
    if verbatim:
        exact = MatchConfig(match_on=("method", "path", "query", "body"), ignore=(), stream_in_key=True)
        out = differences(recorded, got, exact)
        if not out and recorded.body != got.body:
            out.append("body: same JSON, different bytes (paths without a codec match the body exactly)")
        return out
    out: list[str] = []
    if recorded.method.upper() != got.method.upper():
        out.append(f"method: recorded {recorded.method.upper()}, got {got.method.upper()}")
    rpath, gpath = recorded.path, got.path
    if not cfg.stream_in_key:
        rpath, gpath = stream_neutral_path(rpath), stream_neutral_path(gpath)
    if rpath != gpath:
        out.append(f"path: recorded {_show(recorded.path)}, got {_show(got.path)}")
    if "query" in cfg.match_on and _query_pairs(recorded) != _query_pairs(got):
        out.append(f"query: recorded {_show(_query_pairs(recorded))}, got {_show(_query_pairs(got))}")
    for part in cfg.match_on:
        if part.startswith("headers:"):
            name = part.split(":", 1)[1]
            if _header(recorded, name) != _header(got, name):
                out.append(f"{part}: recorded {_show(_header(recorded, name))}, got {_show(_header(got, name))}")
    try:
        rec = body_json(recorded.body, cfg.ignore, drop_stream=not cfg.stream_in_key)
        new = body_json(got.body, cfg.ignore, drop_stream=not cfg.stream_in_key)
    except (ValueError, UnicodeDecodeError):
        if recorded.body != got.body:
            out.append(f"body: recorded {len(recorded.body)} bytes, got {len(got.body)} bytes (not JSON)")
        return out
    out.extend(f"{p}: recorded {_show(a)}, got {_show(b)}" for p, a, b in _walk(rec, new, ""))
    return out
