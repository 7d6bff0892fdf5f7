"""Match keys: how a call or recorded request is reduced to the key the replay index files it under.

A match key is built from the parts named in :attr:`MatchConfig.match_on`. The body
part is the JSON body re-serialised with sorted keys after the volatile fields
(``user``, ``metadata`` …) are dropped, so two SDK versions that order keys
differently or tag requests differently still meet the same recording. ``stream``
is dropped too unless :attr:`MatchConfig.stream_in_key`: a recorded stream can
answer a plain request and the reverse, converted through the neutral model.

The canonical text is then scrubbed as recording scrubs (:meth:`Scrubber.view`) and
normalised (:mod:`.normalise`: generated ids and timestamps), so a request still finds
its recording after both. Of a codec's body, the fields it declares significant always
count; the others only when the recording has them (:class:`Keyer`).

Paths no codec knows (``api`` None in the cassette) are keyed on the method, path,
query and every body field, the body still compared as JSON (bytes when it is not).
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal, NamedTuple

import orjson

from llmreplay.bounded import keep
from llmreplay.cassettes.model import RecordedRequest
from llmreplay.cassettes.normalise import Rule, builtin, parse_rules
from llmreplay.cassettes.scrub import Scrubber, ScrubConfig
from llmreplay.cassettes.textmarks import Marks
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

RequestLike = Call | RecordedRequest

VIEWS_KEPT = 512
"""Calls whose view a :class:`Keyer` keeps, by their bytes: a load test sends the same few requests again and again,
and a view costs ~10 µs (parsing, scrubbing, normalising)."""
VIEW_BODY_MAX = 16 * 1024
"""Bodies longer than this are not kept (the views kept hold at most ~8 MiB of bodies, with their parsed fields)."""
_PLAIN_PARTS = frozenset({"method", "path", "body", "model"})
"""Parts a call's view is made of when it depends on nothing but its method, path and body."""


DEFAULT_SCRUB = ScrubConfig()


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
    scrub: ScrubConfig = DEFAULT_SCRUB
    """What recording scrubs: a key sees the request scrubbed alike."""
    normalise: bool = True
    """Generated ids and timestamps match as placeholders (:mod:`.normalise`)."""
    normalisers: tuple[str, ...] = ()
    """The user's own: ``PATH REGEX -> PLACEHOLDER`` (:class:`.normalise.Rule`)."""
    significant: tuple[str, ...] = ()
    """Body fields that count even when a recording lacks them, beyond the codec's own."""
    fallback: bool = False
    """When nothing matches exactly, a recording of the same conversation content answers (:mod:`.fallback`)."""

    def __post_init__(self) -> None:
        rules = parse_rules(self.normalisers)
        # Built once: the frozen fields above say what these are.
        # Personal data always reads as REDACTED to a key, whatever is kept: a cassette scrubbed with it on (an
        # import scrubs with the defaults) still matches a server that keeps it.
        object.__setattr__(self, "scrubber", Scrubber(dataclasses.replace(self.scrub, personal=True)))
        object.__setattr__(self, "text_rules", tuple(r for r in rules if r.path == "$"))
        object.__setattr__(self, "path_rules", tuple(r for r in rules if r.path != "$"))
        for part in self.match_on:
            if part not in _MATCH_PARTS and not (part.startswith("headers:") and len(part) > len("headers:")):
                allowed = ", ".join(sorted(_MATCH_PARTS))
                raise ValueError(f"match_on: unknown part {part!r} (allowed: {allowed}, headers:<name>)")
        if self.repeat not in ("last", "cycle", "none"):
            raise ValueError(f"repeat: {self.repeat!r} is not one of last, cycle, none")

    scrubber: Scrubber = dataclasses.field(init=False, repr=False, compare=False)
    text_rules: tuple[Rule, ...] = dataclasses.field(init=False, repr=False, compare=False)
    path_rules: tuple[Rule, ...] = dataclasses.field(init=False, repr=False, compare=False)


# ---- request views -------------------------------------------------------------


def query_pairs(req: RequestLike) -> list[tuple[str, str]]:
    items = req.query.items() if isinstance(req.query, Mapping) else req.query
    return sorted((str(k), str(v)) for k, v in items if k not in SECRET_QUERY)


def header(req: RequestLike, name: str) -> str:
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
        obj = orjson.loads(body)
    except orjson.JSONDecodeError:
        # What orjson refuses and the standard library takes (integers past 64 bits, NaN) is JSON to a client.
        try:
            obj = json.loads(body)
        except RecursionError:
            raise ValueError("nested too deeply") from None
    if isinstance(obj, dict | list):
        for path in ignore:
            if "." not in path and isinstance(obj, dict):
                obj.pop(path, None)
            else:
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


class View(NamedTuple):
    """A request as matching sees it: scrubbed, normalised, its body split by significance."""

    base: str
    """Canonical text of the key's parts and of the body's significant fields (all of them on a path no codec
    knows), scrubbed and normalised; the body (or the digest of one that is not JSON) is its last part."""
    rest: dict[str, Any]
    """The body's other top-level fields as parsed, which count only when the recording has them."""
    seen: dict[str, str]
    """The numbered placeholders handed out in ``base``, which the other fields' carry on."""


def clean(text: str, cfg: MatchConfig, seen: dict[str, str]) -> str:
    """``text`` scrubbed and normalised, as a key sees it."""
    marks = Marks(text)
    scrubbed = cfg.scrubber.view(text, marks)
    # Most texts hold nothing to scrub: their marks serve again.
    text = builtin(scrubbed, seen, marks if scrubbed is text else None) if cfg.normalise else scrubbed
    for rule in cfg.text_rules:
        text = rule.text(text)
    return text


@lru_cache(maxsize=512)
def _significant(method: str, path: str, extra: tuple[str, ...]) -> frozenset[str] | None:
    """The body fields that decide the answer on this route; None: all of them (no codec, or one that lists
    none)."""
    found = match_route(method, path)
    # Only generation routes: an operation (embeddings, token counts …) is compared on every field.
    fields = found[0].codec.significant_fields if found is not None and found[0].op is None else ()
    return frozenset((*fields, *extra)) if fields else None


def _head(req: RequestLike, cfg: MatchConfig) -> list[Any]:
    parts: list[Any] = ["codec"]
    for part in cfg.match_on:
        if part == "method":
            parts.append(req.method.upper())
        elif part == "path":
            parts.append(req.path if cfg.stream_in_key else stream_neutral_path(req.path))
        elif part == "query":
            pairs = query_pairs(req)
            parts.append(pairs if cfg.stream_in_key else _stream_neutral_query(pairs))
        elif part == "model":
            parts.append(_model(req))
        elif part != "body":
            parts.append(header(req, part.split(":", 1)[1]))
    return parts


def view_of(req: RequestLike, cfg: MatchConfig, verbatim: bool = False) -> View:
    """What of ``req`` its key is built from. On a path no codec knows (``verbatim``) the method, path, query
    and every body field count, still compared as JSON."""
    if verbatim:
        head: list[Any] = ["verbatim", req.method.upper(), req.path, query_pairs(req)]
    else:
        head = _head(req, cfg)
    if not verbatim and "body" not in cfg.match_on:
        return View(canonical(head), {}, {})
    try:
        body = body_json(req.body, () if verbatim else cfg.ignore, drop_stream=not (verbatim or cfg.stream_in_key))
    except (ValueError, UnicodeDecodeError):
        return View(canonical([*head, "sha256:" + hashlib.sha256(req.body).hexdigest()]), {}, {})
    if isinstance(body, dict | list):
        cfg.scrubber.blank_paths(body)
        for rule in cfg.path_rules:
            body = rule.apply(body)
    rest: dict[str, Any] = {}
    sig = None if verbatim else _significant(req.method, req.path, cfg.significant)
    if sig is not None and isinstance(body, dict):
        rest = {k: body.pop(k) for k in [k for k in body if k not in sig]}
    seen: dict[str, str] = {}
    return View(clean(canonical([*head, body]), cfg, seen), rest, seen)


def with_fields(view: View, names: Iterable[str], cfg: MatchConfig) -> str:
    """The key of ``view`` once the recording's own other fields ``names`` are added (absent ones as such)."""
    names = tuple(names)
    if not names:
        return view.base
    seen = dict(view.seen)
    rest = view.rest
    parts = [[n, clean(canonical(rest[n]), cfg, seen) if n in rest else None] for n in names]
    return view.base + "\x1f" + canonical(parts)


def verbatim_key(req: RequestLike, cfg: MatchConfig | None = None) -> str:
    """Key of an exchange on a path no codec knows: method, path, query and body (as JSON when it is)."""
    return view_of(req, cfg or MatchConfig(), verbatim=True).base


def key_of(req: RequestLike, cfg: MatchConfig, verbatim: bool = False) -> str:
    """The match key of a recorded request (or of a call, taken as if it were one)."""
    view = view_of(req, cfg, verbatim)
    return with_fields(view, sorted(view.rest), cfg)


class Keyer:
    """Keys for the replay index. A recording's key holds the body fields it has; a call is looked up under
    each set of other fields its significant part's recordings have, the largest first, so a field the
    recording lacks does not make a miss. Under the index's lock for :meth:`recording`; :meth:`candidates`
    only reads."""

    def __init__(self, cfg: MatchConfig) -> None:
        self.cfg = cfg
        self._shapes: dict[str, tuple[tuple[str, ...], ...]] = {}
        self._views: dict[tuple[str, str, bytes], View] = {}
        # With the query or a header in the key, a call's bytes alone do not say its view.
        self._keep_views = _PLAIN_PARTS.issuperset(cfg.match_on)

    def recording(self, req: RequestLike, verbatim: bool = False) -> str:
        view = view_of(req, self.cfg, verbatim)
        names = tuple(sorted(view.rest))
        shapes = self._shapes.get(view.base, ())
        if names not in shapes:
            self._shapes[view.base] = tuple(sorted((*shapes, names), key=len, reverse=True))
        return with_fields(view, names, self.cfg)

    def absorb(self, other: Keyer) -> None:
        """Know the field sets of ``other``'s recordings too (an index taking in another's keys)."""
        for base, shapes in list(other._shapes.items()):
            for names in shapes:
                mine = self._shapes.get(base, ())
                if names not in mine:
                    self._shapes[base] = tuple(sorted((*mine, names), key=len, reverse=True))

    def candidates(self, call: RequestLike, verbatim: bool | None = None) -> Iterator[str]:
        """Keys ``call`` may be filed under, best first: the codec's view (unless ``verbatim``), then the
        verbatim one (unless ``verbatim`` is False), worked out only when asked for (a hit on the codec's key
        needs no other)."""
        if verbatim is not True:
            view = self._view(call)
            for names in self._shapes.get(view.base, ()):
                yield with_fields(view, names, self.cfg)
        if verbatim is not False:
            yield verbatim_key(call, self.cfg)

    def _view(self, call: RequestLike) -> View:
        """``call``'s codec view, kept by its bytes (:data:`VIEWS_KEPT`); nothing reads a view but to build keys."""
        if not self._keep_views or len(call.body) > VIEW_BODY_MAX:
            return view_of(call, self.cfg)
        kept = (call.method, call.path, call.body)
        view = self._views.get(kept)
        if view is None:
            view = keep(self._views, kept, view_of(call, self.cfg), VIEWS_KEPT)
        return view


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
