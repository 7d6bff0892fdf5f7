"""Keep secrets out of cassettes: what is removed from a recorded exchange before it is written.

Only the recorded copy is scrubbed; the live exchange passes through untouched.
Listed headers and query parameters keep their name with a placeholder value, so
a replay can still see that the client sent them. Whatever the configuration, a
safety net replaces anything shaped like a provider key (``sk-…``, ``AIza…``,
``ya29.…``, a bearer token) wherever it appears in the exchange, and unless
turned off, personal data too (e-mail addresses, phone and card numbers:
:mod:`.redact`).

Match keys see the same scrub (:meth:`Scrubber.view`), so a request scrubbed when it
was recorded still finds its recording when it comes again as it was sent.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, replace
from typing import Any

from llmreplay.cassettes.model import Interaction, RecordedEvent, RecordedRequest, RecordedResponse
from llmreplay.cassettes.redact import EMAIL, PERSONAL, personal_spans
from llmreplay.cassettes.scrub_stream import scrub_joined
from llmreplay.cassettes.scrub_views import in_base64, matches, replaced, unescaped, utf16
from llmreplay.cassettes.textmarks import Marks, substitute
from llmreplay.providers.registry import ACCOUNT_HEADERS, CREDENTIAL_HEADERS, CREDENTIAL_QUERY

DEFAULT_SECRET_HEADERS: tuple[str, ...] = (
    *CREDENTIAL_HEADERS,
    *ACCOUNT_HEADERS,
    # Plain HTTP's own secrets, whatever the provider.
    "proxy-authorization",
    "cookie",
    "set-cookie",
)
"""Every codec's credential and account headers (providers/registry.py gathers them), and HTTP's own."""
DEFAULT_SECRET_QUERY: tuple[str, ...] = CREDENTIAL_QUERY

# Shapes of provider credentials: OpenAI / Anthropic (sk-, sk-proj-, sk-ant-api03-), Google API keys and
# OAuth access tokens. Kept specific so ordinary text in prompts and answers is not mangled.
_KEY_SHAPES = (
    # Not inside a word ("task-…" is no key). A key may follow or be followed by anything else ("/", "=", "+"
    # too): standard base64 holds no "-" or ".", so "sk-" and "ya29." cannot start inside an inline file's data.
    rb"(?<![A-Za-z0-9_-])sk-[A-Za-z0-9_-]{16,}(?![A-Za-z0-9_-])",
    # "AIza" can sit inside base64 (an inline PDF), where it follows a letter, digit, "+" or "/": after a "/",
    # one followed by "/", "+" or "=" is taken for base64 (a path's segments are searched one by one).
    rb"(?<![A-Za-z0-9_+/-])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])",
    rb"(?<![A-Za-z0-9_+-])AIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_+/=-])",
    rb"(?<![A-Za-z0-9_-])ya29\.[0-9A-Za-z_.-]{20,}(?![A-Za-z0-9_.-])",
)
_KEY_STARTS = ("sk-", "AIza", "ya29.")
"""The fixed text every key shape above starts with."""
# In header values only: any bearer token, whatever its shape (Azure AD, vLLM --api-key …).
_BEARER = re.compile(r"(?i)(bearer\s+)[^\s,]{8,}")

_CLEAN_MAX = 4096
"""Most header values and paths remembered as having nothing to scrub; past it the memory starts again."""


@dataclass(frozen=True)
class ScrubConfig:
    headers: tuple[str, ...] = DEFAULT_SECRET_HEADERS
    """Header names (any case) whose value is replaced, in requests and responses."""
    query: tuple[str, ...] = DEFAULT_SECRET_QUERY
    """Query parameter names whose value is replaced."""
    body_paths: tuple[str, ...] = ()
    """Dotted paths into JSON bodies (``user``, ``metadata.email``, ``messages.*.name``) whose value is replaced."""
    patterns: tuple[str, ...] = ()
    """Regexes replaced wherever they match: bodies, stream events, header and query values."""
    personal: bool = True
    """Replace e-mail addresses, phone numbers and card-like numbers too."""
    placeholder: str = "REDACTED"


class Scrubber:
    """Applies a :class:`ScrubConfig` to recorded requests, responses and interactions."""

    def __init__(self, cfg: ScrubConfig | None = None) -> None:
        self.cfg = cfg or ScrubConfig()
        self._headers = frozenset(h.lower() for h in self.cfg.headers)
        self._query = frozenset(q.lower() for q in self.cfg.query)
        self._paths = tuple(tuple(p.split(".")) for p in self.cfg.body_paths if p)
        self._placeholder = self.cfg.placeholder
        self._placeholder_b = self.cfg.placeholder.encode()
        shapes = [p.decode() for p in _KEY_SHAPES]
        for pattern in self.cfg.patterns:
            try:
                re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"scrub pattern {pattern!r} is not a valid regex: {exc}") from None
        # One alternation per kind of value: one pass over each body or event, however many patterns.
        joined = "|".join(f"(?:{p})" for p in [*shapes, *self.cfg.patterns])
        self._str_re = re.compile(joined)
        self._bytes_re = re.compile(joined.encode())
        # Personal data has no fixed start to look for: its own pass, tried only where an "@" or enough digits
        # are (most events and bodies have neither).
        personal = PERSONAL if self.cfg.personal else ()
        self._email = re.compile(EMAIL) if personal else None
        self._email_b = re.compile(EMAIL.encode()) if personal else None
        numbers = "|".join(f"(?:{p})" for p in personal if p != EMAIL)
        self._numbers = re.compile(numbers) if personal else None
        self._numbers_b = re.compile(numbers.encode()) if personal else None
        # Escaped and re-encoded text is rare: one alternation of everything for those views.
        every = "|".join(f"(?:{p})" for p in [*shapes, *personal, *self.cfg.patterns])
        self._every_re = re.compile(every)
        self._every_b = re.compile(every.encode())
        # Without patterns of the user's, a value can only need scrubbing if it holds one of the key shapes'
        # fixed starts: a substring test in C rules out nearly every event, where the regex (whose
        # lookbehinds defeat the engine's literal search) cost ~8 us per event of every recording.
        self._starts: tuple[str, ...] | None = None if self.cfg.patterns else _KEY_STARTS
        self._starts_b: tuple[bytes, ...] | None = None if self.cfg.patterns else tuple(k.encode() for k in _KEY_STARTS)
        # A recording's headers and path are mostly those of the one before (its content type, its server, its
        # route): each value found clean once is taken as it is after that (~30 us an exchange). Only values
        # that came out unchanged are remembered, so no secret is kept beyond its exchange.
        self._clean_headers: set[str] = set()
        self._clean_paths: set[str] = set()

    def request(self, req: RecordedRequest) -> RecordedRequest:
        return replace(
            req,
            path=self._path(req.path),
            query=tuple(
                (_utf8(k), self._placeholder if k.lower() in self._query else self._text(v)) for k, v in req.query
            ),
            headers=self._header_list(req.headers),
            body=self._json_body(req.body),
        )

    def response(self, resp: RecordedResponse) -> RecordedResponse:
        events = resp.events
        joined = b"" if events is None else b"".join(e.data for e in events)
        if events is not None and (_may_hold(joined, self._starts_b) or self._personal_b(joined) != joined):
            # Per event, so the boundaries (and times) recorded stay exactly as they were.
            events = tuple(RecordedEvent(e.at_us, self._bytes(e.data)) for e in events)
        if events is not None:
            # Then the text the events carry, joined as a client joins it: a key split across deltas.
            events = scrub_joined(events, self._find, self._placeholder)
        return replace(
            resp,
            headers=self._header_list(resp.headers),
            body=None if resp.body is None else self._json_body(resp.body),
            events=events,
            error=None if resp.error is None else self._text(resp.error),
        )

    def interaction(self, it: Interaction) -> Interaction:
        return replace(it, request=self.request(it.request), response=self.response(it.response))

    def _header_list(self, headers: tuple[tuple[str, str], ...]) -> tuple[tuple[str, str], ...]:
        secret = self._headers
        return tuple(
            (_utf8(k), self._placeholder if k.lower() in secret else self._header_value(v)) for k, v in headers
        )

    def _header_value(self, value: str) -> str:
        if value in self._clean_headers:
            return value
        out = self._text(_BEARER.sub(lambda m: m.group(1) + self._placeholder, value))
        return _clean(self._clean_headers, value, out)

    def _path(self, path: str) -> str:
        if path in self._clean_paths:
            return path
        return _clean(self._clean_paths, path, "/".join(self._text(part) for part in path.split("/")))

    def view(self, text: str, marks: Marks | None = None) -> str:
        """``text`` (a match key's canonical JSON) as it reads once scrubbed: a recorded request was scrubbed
        before it was saved, so the request that comes again is scrubbed alike before its key is taken.
        ``marks``: the text's, when the caller has them already."""
        if _may_hold(text, self._starts):
            text, marks = replaced(text, self._str_re, self._placeholder, self._starts), None
        return self._personal(text, marks)

    def blank_paths(self, doc: Any) -> None:
        """Replace the configured body paths' values in the parsed body ``doc``, as recording does."""
        for path in self._paths:
            _blank(doc, path, self._placeholder)

    def _personal(self, text: str, marks: Marks | None = None) -> str:
        ph = self._placeholder
        spans = personal_spans(text, self._email, self._numbers, marks)
        return substitute(text, [(a, b, lambda _: ph) for a, b in spans]) if spans else text

    def _personal_b(self, data: bytes) -> bytes:
        ph = self._placeholder_b
        spans = personal_spans(data, self._email_b, self._numbers_b)
        return substitute(data, [(a, b, lambda _: ph) for a, b in spans])

    def _find(self, text: str) -> list[tuple[int, int]]:
        found = matches(text, self._str_re, self._starts)
        return sorted(found + personal_spans(text, self._email, self._numbers))

    def _text(self, value: str) -> str:
        value = _utf8(value)
        if _may_hold(value, self._starts):
            value = replaced(value, self._str_re, self._placeholder, self._starts)
        value = self._personal(value)
        if "%" in value or "\\u" in value:
            # A pattern of the user's may end inside a character: what is left of it becomes U+FFFD.
            value = unescaped(value.encode(), self._every_b, self._placeholder_b).decode("utf-8", "replace")
        return value

    def _bytes(self, data: bytes) -> bytes:
        if _may_hold(data, self._starts_b):
            data = replaced(data, self._bytes_re, self._placeholder_b, self._starts_b)
        return unescaped(self._personal_b(data), self._every_b, self._placeholder_b)

    def _json_body(self, body: bytes) -> bytes:
        if self._paths and body:
            body = self._body_paths(body)
        # A whole body may also be another encoding of text, or carry some as base64 (an inline file).
        body = utf16(self._bytes(body), self._every_re, self._placeholder)
        return in_base64(body, self._bytes_re, self._placeholder_b, self._starts_b)

    def _body_paths(self, body: bytes) -> bytes:
        try:
            doc = json.loads(body)
        except ValueError:
            return body
        hit = False
        for path in self._paths:
            hit = _blank(doc, path, self._placeholder) or hit
        # Re-serialised only when something was replaced, so untouched bodies keep their exact bytes.
        return json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode() if hit else body


def _utf8(value: str) -> str:
    """``value`` as text a cassette can hold: aiohttp keeps a header's bytes that are not UTF-8 as lone
    surrogates, which no UTF-8 writer takes (the recording was lost), so each becomes U+FFFD."""
    if value.isascii():
        return value
    try:
        value.encode()
    except UnicodeEncodeError:
        return value.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return value


def _clean(clean: set[str], value: str, out: str) -> str:
    """``out``, the scrub of ``value``; ``value`` is remembered in ``clean`` when the scrub left it as it was."""
    if out == value:
        if len(clean) >= _CLEAN_MAX:
            clean.clear()
        clean.add(value)
    return out


def _may_hold(value: Any, starts: tuple[Any, ...] | None) -> bool:
    """Whether ``value`` may need the regexes: always with the user's patterns (``starts`` None)."""
    return starts is None or any(k in value for k in starts)


def _blank(node: Any, path: tuple[str, ...], placeholder: str) -> bool:
    """Replace the value(s) at ``path`` (``*`` matches every key or index); True if any was there."""
    head, rest = path[0], path[1:]
    if isinstance(node, dict):
        keys = list(node) if head == "*" else [head] if head in node else []
    elif isinstance(node, list):
        if head == "*":
            keys = list(range(len(node)))
        elif head.isdigit() and int(head) < len(node):
            keys = [int(head)]
        else:
            keys = []
    else:
        return False
    hit = False
    for k in keys:
        if rest:
            hit = _blank(node[k], rest, placeholder) or hit
        else:
            node[k] = placeholder
            hit = True
    return hit
