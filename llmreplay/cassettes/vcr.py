"""Import vcrpy / pytest-recording YAML cassettes of LLM calls as llmreplay interactions.

vcrpy keeps no per-event timing, so streams get a synthetic one (first event at
``ttft_ms``, then one every ``gap_ms``). Bodies come as text, ``!!binary`` bytes,
gzip (when the response says ``content-encoding: gzip``) or base64 text; the
variant pydantic-ai's test suite writes stores JSON as a ``parsed_body`` mapping.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import json
import re
import zlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from llmreplay.cassettes import provenance
from llmreplay.cassettes.model import Interaction, RecordedEvent, RecordedRequest, RecordedResponse
from llmreplay.codec import Route
from llmreplay.providers.registry import (
    CREDENTIAL_HEADERS,
    CREDENTIAL_QUERY,
    match_route,
    pattern_regex,
    streams_by_path,
)
from llmreplay.sse import parse_sse
from llmreplay.urls import redacted

SECRET_HEADERS = frozenset({*CREDENTIAL_HEADERS, "cookie", "set-cookie"})
"""Dropped from an import when the project's scrubber is missing: every codec's credential headers and cookies."""
SECRET_QUERY = frozenset(CREDENTIAL_QUERY)
_BASE64 = re.compile(rb"^[A-Za-z0-9+/\r\n]+={0,2}\s*$")


class VcrError(ValueError):
    """A file that is not a readable vcrpy cassette; the message names the file."""


@dataclass(frozen=True, slots=True)
class Timing:
    """Synthetic timing for recordings that have none."""

    ttft_ms: float = 300.0
    gap_ms: float = 20.0


# Route matching (``match_route``, ``pattern_regex``) lives with the routes, in providers/registry.py; it is
# re-exported here, where the cassette tools have always found it.


# ---- YAML -------------------------------------------------------------------------------------


def _yaml_loader() -> Any:
    import yaml

    return getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(path: str | Path) -> list[dict[str, Any]]:
    """The interactions of a vcrpy cassette file, or VcrError naming the file."""
    import yaml

    p = Path(path)
    try:
        text = p.read_bytes()
    except OSError as exc:
        raise VcrError(f"{p}: cannot read: {exc.strerror or exc}") from None
    try:
        doc = yaml.load(text, Loader=_yaml_loader())
    except yaml.YAMLError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise VcrError(f"{p}: not valid YAML: {first}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("interactions"), list):
        raise VcrError(f"{p}: not a vcrpy cassette (no 'interactions' list)")
    for i, it in enumerate(doc["interactions"]):
        if (
            not isinstance(it, dict)
            or not isinstance(it.get("request"), dict)
            or not isinstance(it.get("response"), dict)
        ):
            raise VcrError(f"{p}: interaction {i} has no request/response mapping")
    return doc["interactions"]


# ---- bodies and headers -------------------------------------------------------------------------


def _headers(raw: Any) -> list[tuple[str, str]]:
    """vcrpy's ``{name: [values]}`` (or single values) as lower-case pairs, repeats kept."""
    out: list[tuple[str, str]] = []
    if not isinstance(raw, dict):
        return out
    for name, values in raw.items():
        vals = values if isinstance(values, list) else [values]
        out.extend((str(name).lower(), _text(v)) for v in vals if v is not None)
    return out


def _text(v: Any) -> str:
    return v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)


def _get(headers: Iterable[tuple[str, str]], name: str) -> str:
    return next((v for k, v in headers if k == name), "")


def _dumps(obj: Any) -> bytes:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode()


def _maybe_base64(data: bytes) -> bytes:
    """Decoded bytes when ``data`` is base64 of gzip or of JSON/SSE text; else ``data`` unchanged."""
    stripped = data.strip()
    if len(stripped) < 8 or not _BASE64.match(stripped) or stripped[:1] in (b"{", b"["):
        return data
    try:
        decoded = base64.b64decode(stripped, validate=False)
    except (binascii.Error, ValueError):
        return data
    if decoded[:2] == b"\x1f\x8b":
        return decoded
    head = decoded.lstrip()[:6]
    if head[:1] in (b"{", b"[") or head.startswith((b"data:", b"event:")):
        try:
            decoded.decode("utf-8")
        except UnicodeDecodeError:
            return data
        return decoded
    return data


def _decompress(data: bytes, encoding: str) -> tuple[bytes, bool]:
    """``data`` decoded per content-encoding (or gzip magic); True when something was undone."""
    enc = encoding.lower().strip()
    try:
        if enc in ("gzip", "x-gzip") or data[:2] == b"\x1f\x8b":
            return gzip.decompress(data), True
        if enc == "deflate":
            try:
                return zlib.decompress(data), True
            except zlib.error:
                return zlib.decompress(data, -zlib.MAX_WBITS), True
        if enc == "br":
            import brotli  # type: ignore[import-not-found]

            return brotli.decompress(data), True
    except (OSError, EOFError, zlib.error, ImportError):
        return data, False
    return data, False


def _body_bytes(part: dict[str, Any], *, response: bool) -> bytes | None:
    """The raw body of a vcrpy request or response mapping (None when it has none)."""
    if "parsed_body" in part and part["parsed_body"] is not None:
        return _dumps(part["parsed_body"])
    body = part.get("body")
    if response and isinstance(body, dict):
        body = body.get("string")
    if body is None:
        return None
    if isinstance(body, bytes):
        return body
    if isinstance(body, str):
        return body.encode("utf-8", "surrogateescape")
    return _dumps(body)


# ---- one interaction ---------------------------------------------------------------------------


def _is_stream(path: str, req_body: bytes, content_type: str) -> bool:
    if content_type.lower().startswith("text/event-stream") or streams_by_path(path):
        return True
    if req_body[:1] == b"{":
        try:
            obj = json.loads(req_body)
        except ValueError:
            return False
        return isinstance(obj, dict) and obj.get("stream") is True
    return False


def split_events(body: bytes, route: Route | None) -> list[bytes]:
    """A stream body cut into its events' exact bytes (joined, they are ``body``)."""
    if not body:
        return []
    if route is not None:
        try:
            raws = [e.raw for e in route.codec.parse_events(body)]
        except Exception:  # a codec that rejects the body: fall back to plain SSE cutting
            raws = []
        if raws and b"".join(raws) == body:
            return raws
    raws = [e.raw for e in parse_sse(body)]
    if raws and b"".join(raws) == body:
        return raws
    return [body]


def _recorded_at(headers: Iterable[tuple[str, str]]) -> str:
    date = _get(headers, "date")
    if not date:
        return ""
    try:
        dt = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        return ""
    return dt.strftime("%Y-%m-%dT%H:%M:%SZ")


def _scrub_fallback(it: Interaction) -> Interaction:
    req = it.request
    clean = RecordedRequest(
        req.method,
        req.path,
        tuple((k, v) for k, v in req.query if k not in SECRET_QUERY),
        tuple((k, v) for k, v in req.headers if k not in SECRET_HEADERS),
        req.body,
    )
    resp = it.response
    resp_headers = tuple((k, v) for k, v in resp.headers if k not in SECRET_HEADERS)
    return Interaction(
        clean,
        RecordedResponse(resp.status, resp_headers, resp.body, resp.events, resp.headers_us, resp.end_us, resp.error),
        it.api,
        it.endpoint,
        it.recorded_at,
        it.extra,
    )


@cache
def _scrubber() -> Callable[[Interaction], Interaction]:
    try:
        from llmreplay.cassettes.scrub import Scrubber, ScrubConfig
    except ImportError:
        return _scrub_fallback
    return Scrubber(ScrubConfig()).interaction


def scrub(it: Interaction) -> Interaction:
    """Secrets out: the project's scrubber when present, else the well-known auth headers and ``key``."""
    return _scrubber()(it)


def convert(obj: dict[str, Any], timing: Timing = Timing(), source: str = "") -> Interaction:
    """One vcrpy interaction mapping as an llmreplay Interaction (not yet scrubbed)."""
    req, resp = obj["request"], obj["response"]
    url = urlsplit(str(req.get("uri") or "/"))
    path = url.path or "/"
    method = str(req.get("method") or "GET").upper()
    req_headers = _headers(req.get("headers"))
    req_body = _body_bytes(req, response=False) or b""
    req_body = _maybe_base64(req_body)
    req_body, undone = _decompress(req_body, _get(req_headers, "content-encoding"))
    if undone:
        req_headers = [(k, v) for k, v in req_headers if k not in ("content-encoding", "content-length")]

    status_raw = resp.get("status")
    status = int(status_raw.get("code", 200) if isinstance(status_raw, dict) else status_raw or 200)
    resp_headers = _headers(resp.get("headers"))
    body = _body_bytes(resp, response=True) or b""
    body = _maybe_base64(body)
    body, _ = _decompress(body, _get(resp_headers, "content-encoding"))
    # The body is stored decoded, so its length and encoding headers no longer describe it.
    resp_headers = [(k, v) for k, v in resp_headers if k not in ("content-encoding", "content-length")]

    found = match_route(method, path)
    route = found[0] if found else None
    ctype = _get(resp_headers, "content-type")
    # Providers answer a failed stream request with a plain JSON error, before any event.
    stream = _is_stream(path, req_body, ctype) and (200 <= status < 300 or ctype.startswith("text/event-stream"))
    ttft = round(timing.ttft_ms * 1000)
    gap = round(timing.gap_ms * 1000)
    if stream:
        raws = split_events(body, route)
        events = tuple(RecordedEvent(ttft + i * gap, raw) for i, raw in enumerate(raws))
        response = RecordedResponse(
            status, tuple(resp_headers), None, events, ttft, events[-1].at_us if events else ttft
        )
    else:
        response = RecordedResponse(status, tuple(resp_headers), body, None, ttft, ttft)
    request = RecordedRequest(
        method, path, tuple(parse_qsl(url.query, keep_blank_values=True)), tuple(req_headers), req_body
    )
    extra: dict[str, Any] = {"imported_from": source} if source else {}
    return Interaction(
        request,
        response,
        route.codec.api if route else None,
        route.endpoint if route else "other",
        _recorded_at(resp_headers),
        extra,
    )


def upstream_of(interactions: list[dict[str, Any]], fallback: str) -> str:
    """The scheme and host of the first interaction's URI (what the cassette was recorded from)."""
    for obj in interactions:
        url = urlsplit(str(obj["request"].get("uri") or ""))
        if url.scheme and url.netloc:
            return redacted(f"{url.scheme}://{url.netloc}")  # a recorded URI may carry user:password
    return fallback


def iter_import(path: str | Path, timing: Timing = Timing()) -> tuple[str, int, Iterator[Interaction]]:
    """Upstream, interaction count and the scrubbed interactions of one vcrpy file."""
    p = Path(path)
    objs = load_yaml(p)

    def gen() -> Iterator[Interaction]:
        for i, obj in enumerate(objs):
            try:
                it = convert(obj, timing, f"{p.name} #{i}")
            except (KeyError, TypeError, ValueError, AttributeError) as exc:
                raise VcrError(f"{p}: interaction {i} cannot be read: {exc}") from None
            yield provenance.imported(scrub(it), "vcr", p.name)

    return upstream_of(objs, f"vcr:{p.name}"), len(objs), gen()


def import_file(path: str | Path, timing: Timing = Timing()) -> tuple[str, list[Interaction]]:
    """Upstream and the scrubbed interactions of one vcrpy file."""
    upstream, _, its = iter_import(path, timing)
    return upstream, list(its)


def cassette_name(path: str | Path) -> str:
    """The cassette name for a vcrpy file: its name without ``.yaml``/``.yml``, made path-safe."""
    name = Path(path).name
    for suffix in (".yaml", ".yml", ".json"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    name = re.sub(r"\.{2,}", ".", re.sub(r"[^\w.\-]+", "_", name))
    return name.strip(".") or "cassette"


__all__ = [
    "SECRET_HEADERS",
    "Timing",
    "VcrError",
    "cassette_name",
    "convert",
    "import_file",
    "iter_import",
    "load_yaml",
    "match_route",
    "pattern_regex",
    "scrub",
    "split_events",
    "upstream_of",
]
