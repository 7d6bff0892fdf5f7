"""The codec contract: what every provider API's codec does, and the types it speaks in.

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

The contract sits beside the neutral model, outside :mod:`llmreplay.providers`: the exchange, the
shaper and the sources hold a route's codec and call it through this interface, and know no codec
(no wire format) themselves. The codecs, and what they share, are in :mod:`llmreplay.providers`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Answer, Call, Frame, Quota, Reply, Request


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
    key: str | None = None
    """A finer configuration key, where the original server configured apart what one endpoint serves
    (``gemini-stream-v1`` refines ``gemini``); None: the endpoint's own name."""

    @property
    def config_key(self) -> str:
        """The name the route's live configuration and quotas are looked up by."""
        return self.key or self.endpoint


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
    significant_fields: ClassVar[tuple[str, ...]] = ()
    """Request body fields that decide the answer (messages, tools, tool choice, model, output format, sampling):
    compared whenever either side has one. Other fields count only when the recording has them, so a field a
    newer SDK adds does not turn every recording into a miss. Empty: every field is significant."""

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

    def prompt_filtered(self) -> ApiError | None:
        """The error this provider answers a prompt its content filter refuses with; None: it answers a reply
        saying so instead (Anthropic's refusal, Gemini's ``promptFeedback``)."""
        return None

    def request_id_form(self, rid: str) -> str | None:
        """An answer's request id ``rid`` (``RenderOptions.request_id``) as this API writes it, where it writes a
        form of its own (Anthropic's ``request-id``, in base 58): an answer cut where its draws go
        (:mod:`llmreplay.drawn`) writes it so. None: the id is written as it is, or not at all."""
        return None

    def garble(self, data: bytes) -> bytes | None:
        """A stream frame whose payload is no longer JSON but whose framing is whole (``malformed@N``), for
        framings with checksums a blind cut would break; None: the generic cut of the payload serves."""
        return None

    def in_stream_error(self, error: ApiError, opts: RenderOptions, sent: Sequence[Frame] = ()) -> bytes | None:
        """The bytes of this provider's error event inside an open stream, if it has one.

        ``sent`` holds the frames already sent, for codecs whose error event refers to
        the open stream (OpenAI Responses' ``response.failed`` carries its id and the next
        ``sequence_number``).
        """
        return None
