"""What a cassette holds: a header and interactions, each a request and its recorded response.

Times are integer microseconds from the moment the request was sent upstream. A
stream's response keeps every event's exact bytes (the providers' odd separators
and padding included) with the offset at which its last byte arrived; the events'
bytes joined are the body exactly. A plain response keeps its body, the time to
headers and the time to its end. The on-disk layout is in ``docs/cassettes.md``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple, overload

import msgpack

from llmreplay.cassettes import fields
from llmreplay.cassettes.fields import BadRecording

FORMAT = "llmreplay-cassette"
VERSION = 1


@dataclass(frozen=True, slots=True)
class Header:
    upstream: str
    """Base URL recorded from (``https://api.openai.com``), or what an import came from."""
    created: str
    """RFC 3339 UTC time the cassette was started."""
    llmreplay: str
    """Version of llmreplay that wrote it."""
    version: int = VERSION
    extra: dict[str, Any] = field(default_factory=dict)
    """Keys written by newer versions or other tools, kept on rewrite."""
    provenance: dict[str, str] = field(default_factory=dict)
    """How the file was made (each recording's own is its interaction's ``provenance``, as recordings are
    appended without rewriting the header): ``{"how": "recorded"}`` or ``{"how": "imported", "from", "file"}``."""

    def to_obj(self) -> dict[str, Any]:
        obj = {
            **self.extra,
            "format": FORMAT,
            "version": self.version,
            "llmreplay": self.llmreplay,
            "created": self.created,
            "upstream": self.upstream,
        }
        if self.provenance:
            obj["provenance"] = self.provenance
        return obj

    @classmethod
    def from_obj(cls, obj: Any) -> Header:
        if not isinstance(obj, dict) or obj.get("format") != FORMAT:
            raise ValueError("not an llmreplay cassette (no header)")
        version = obj.get("version")
        if not isinstance(version, int) or version > VERSION:
            raise ValueError(f"cassette format version {version!r} is not supported (this llmreplay reads ≤ {VERSION})")
        known = {"format", "version", "llmreplay", "created", "upstream", "provenance"}
        extra = {k: v for k, v in obj.items() if k not in known}
        return cls(
            str(obj.get("upstream", "")),
            str(obj.get("created", "")),
            str(obj.get("llmreplay", "")),
            version,
            extra,
            fields.labels(obj.get("provenance"), "header provenance"),
        )


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    method: str
    path: str
    query: tuple[tuple[str, str], ...] = ()
    """In order, repeated names kept; secrets already scrubbed."""
    headers: tuple[tuple[str, str], ...] = ()
    """Names in lower case; secrets already scrubbed."""
    body: bytes = b""

    def to_obj(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": [list(q) for q in self.query],
            "headers": [list(h) for h in self.headers],
            "body": self.body,
        }

    @classmethod
    def from_obj(cls, o: Any) -> RecordedRequest:
        if not isinstance(o, dict):
            raise BadRecording("request is not a map")
        body = o.get("body")
        return cls(
            fields.text(o.get("method"), "request method"),
            fields.text(o.get("path"), "request path"),
            fields.pairs(o.get("query"), "request query"),
            fields.pairs(o.get("headers"), "request headers"),
            b"" if body is None else fields.data(body, "request body"),
        )


class RecordedEvent(NamedTuple):
    # A named tuple, not a dataclass: a large cassette holds hundreds of thousands of
    # events, and tuples are built several times faster (load time is a target).
    at_us: int
    """Arrival of the event's last byte, from the request start."""
    data: bytes


class LazyEvents(Sequence[RecordedEvent]):
    """A loaded stream's events, kept as their msgpack bytes until first used.

    Decoding every event of a large cassette at start-up is most of its load time and doubles its memory,
    while a replay run typically plays a few of its streams. The bytes were checked to be one whole msgpack
    array when the cassette was read; a malformed event inside it is reported when the stream is first used.
    """

    __slots__ = ("_events", "_raw")

    def __init__(self, raw: bytes | memoryview) -> None:
        self._raw: bytes | memoryview | None = raw
        self._events: tuple[RecordedEvent, ...] = ()

    def _decoded(self) -> tuple[RecordedEvent, ...]:
        raw = self._raw
        if raw is not None:
            events = tuple(map(_make_event, self.check()))
            self._events, self._raw = events, None
        return self._events

    @property
    def decoded(self) -> bool:
        """Whether the events are decoded already (used, or loaded from a small cassette)."""
        return self._raw is None

    def decode(self) -> None:
        """Decode the events now and keep them (a small cassette's, as it loads); raises :class:`BadRecording` as
        :meth:`check` does."""
        self._decoded()

    def check(self) -> tuple[tuple[int, bytes], ...]:
        """The events decoded and checked (:func:`fields.events`), keeping nothing: the loader checks every stream
        this way and leaves its bytes undecoded until it is played, as most of a cassette's streams never are."""
        if self._raw is None:
            return self._events
        try:
            return fields.events(msgpack.unpackb(self._raw, raw=False, strict_map_key=False, use_list=False))
        except BadRecording:
            raise
        except (ValueError, TypeError, msgpack.ExtraData) as exc:
            raise BadRecording(f"recorded stream events are malformed ({exc})") from None

    def __len__(self) -> int:
        return len(self._decoded())

    @overload
    def __getitem__(self, i: int) -> RecordedEvent: ...
    @overload
    def __getitem__(self, i: slice) -> tuple[RecordedEvent, ...]: ...
    def __getitem__(self, i: int | slice) -> RecordedEvent | tuple[RecordedEvent, ...]:
        return self._decoded()[i]

    def __iter__(self) -> Iterator[RecordedEvent]:
        return iter(self._decoded())

    def __eq__(self, other: object) -> bool:
        if isinstance(other, LazyEvents):
            other = other._decoded()
        return isinstance(other, tuple) and self._decoded() == other

    def __hash__(self) -> int:
        return hash(self._decoded())

    def __repr__(self) -> str:
        return "LazyEvents(pending)" if self._raw is not None else f"LazyEvents({self._events!r})"


@dataclass(frozen=True, slots=True)
class RecordedResponse:
    status: int
    headers: tuple[tuple[str, str], ...] = ()
    body: bytes | None = None
    """A plain response's body; None for a stream."""
    events: Sequence[RecordedEvent] | None = None
    """A stream's events in order (a tuple, or :class:`LazyEvents` from a loaded file); None for a plain response."""
    headers_us: int = 0
    """Time to the status line and headers."""
    end_us: int = 0
    """Time to the last byte (or to the failure)."""
    error: str | None = None
    """How the exchange failed upstream, if it did: ``disconnect``, ``timeout``, ``connect`` …"""

    @property
    def stream(self) -> bool:
        return self.events is not None

    def unreadable(self) -> str | None:
        """Why the recorded events cannot be read, or None. Events loaded lazily are decoded now, so a replay
        or a check finds a malformed one before it answers, not midway."""
        if isinstance(self.events, LazyEvents):
            try:
                len(self.events)
            except ValueError as exc:
                return str(exc)
        return None

    @property
    def raw(self) -> bytes:
        """The whole body as the client received it."""
        if self.events is not None:
            return b"".join(e.data for e in self.events)
        return self.body or b""

    def to_obj(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "headers": [list(h) for h in self.headers],
            "body": self.body,
            "events": None if self.events is None else [[e.at_us, e.data] for e in self.events],
            "headers_us": self.headers_us,
            "end_us": self.end_us,
            "error": self.error,
        }

    @classmethod
    def from_obj(cls, o: Any) -> RecordedResponse:
        if not isinstance(o, dict):
            raise BadRecording("response is not a map")
        events = o.get("events")
        if isinstance(events, LazyEvents):
            events.check()
        elif events is not None:
            events = tuple(map(_make_event, fields.events(events)))
        body = o.get("body")
        return cls(
            fields.status(o.get("status")),
            fields.pairs(o.get("headers"), "response headers", headers=True),
            None if body is None else fields.data(body, "response body"),
            events,
            fields.offset_us(o.get("headers_us"), "headers_us"),
            fields.offset_us(o.get("end_us"), "end_us"),
            fields.optional_text(o.get("error"), "error"),
        )


_make_event = RecordedEvent._make
"""Builds an event from msgpack's ``[int, bytes]`` pair without a Python-level call per field."""


@dataclass(frozen=True, slots=True)
class Interaction:
    request: RecordedRequest
    response: RecordedResponse
    api: str | None = None
    """The codec's api name (``openai-chat`` …), or None for a path no codec knows (replayed verbatim)."""
    endpoint: str = "other"
    recorded_at: str = ""
    """RFC 3339 UTC time of the recording."""
    extra: dict[str, Any] = field(default_factory=dict)
    """Fields written by newer versions or other tools, kept on rewrite."""
    model: str | None = None
    """The model asked for (the body's ``model``, or the path's for Gemini); None in cassettes written before
    it was kept (:func:`~llmreplay.cassettes.provenance.model_of` reads it from the request then)."""
    provenance: dict[str, str] = field(default_factory=dict)
    """How the recording was made: ``{"how": "recorded", "upstream", "user_agent", "client"}``, ``{"how":
    "imported", "from": "vcr" | "json", "file"}`` or ``{"how": "edited"}``; empty in older cassettes."""

    def to_obj(self) -> dict[str, Any]:
        obj = {
            **self.extra,
            "api": self.api,
            "endpoint": self.endpoint,
            "recorded_at": self.recorded_at,
            "request": self.request.to_obj(),
            "response": self.response.to_obj(),
        }
        # Written only when known, so a cassette without them reads back equal and older readers see no change.
        if self.model is not None:
            obj["model"] = self.model
        if self.provenance:
            obj["provenance"] = self.provenance
        return obj

    @classmethod
    def from_obj(cls, o: Any) -> Interaction:
        if not isinstance(o, dict) or "request" not in o or "response" not in o:
            raise ValueError("not an interaction")
        known = {"api", "endpoint", "recorded_at", "request", "response", "model", "provenance"}
        return cls(
            RecordedRequest.from_obj(o["request"]),
            RecordedResponse.from_obj(o["response"]),
            fields.optional_text(o.get("api"), "api"),
            fields.text(o.get("endpoint") or "other", "endpoint"),
            fields.text(o.get("recorded_at") or "", "recorded_at"),
            {k: v for k, v in o.items() if k not in known},
            fields.optional_text(o.get("model"), "model"),
            fields.labels(o.get("provenance"), "provenance"),
        )
