"""The neutral model every codec, source and shaper stage speaks.

A codec turns a provider's HTTP call into a :class:`Request` and a :class:`Reply`
into :class:`Frame` s; sources produce Replies (or, for replay, Frames directly);
the shaper only ever sees Frames. Nothing here knows a wire format.
"""

from __future__ import annotations

import enum
import functools
import json
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, NamedTuple, Protocol


@dataclass(frozen=True, slots=True)
class Call:
    """One HTTP call as it arrived, free of any web framework."""

    method: str
    """Upper-case HTTP method."""
    path: str
    """URL path, without the query string."""
    params: Mapping[str, str] = field(default_factory=dict)
    """Values captured from the path pattern (e.g. ``model`` for Gemini)."""
    query: Mapping[str, str] = field(default_factory=dict)
    """Query parameters (last value wins)."""
    headers: Mapping[str, str] = field(default_factory=dict)
    """Request headers, names in lower case."""
    body: bytes = b""
    """The raw request body."""
    wire: Wire | None = None
    """The call exactly as it came (raw path and query, every header in order): only kept where it may be
    forwarded upstream or recorded."""

    def json(self) -> Any:
        """The body parsed as JSON (raises ``ValueError`` when it is not JSON)."""
        return json.loads(self.body)


@dataclass(frozen=True, slots=True)
class Wire:
    """What of a call a proxy passes on as it came."""

    target: str
    """The raw path and query string (``/v1beta/models/m:generateContent?key=…``), undecoded."""
    headers: tuple[tuple[str, str], ...]
    """Every header as sent: repeated names kept, the client's spelling."""
    query: tuple[tuple[str, str], ...]
    """Every query parameter, repeated names kept."""


@dataclass(frozen=True, slots=True)
class ToolResult:
    """What a tool answered to one of the model's calls, as the app sent it back."""

    call_id: str
    """The call it answers (``tool_call_id``, ``call_id``, ``tool_use_id``; Gemini's optional ``id``)."""
    name: str
    """The tool's name, where the conversation says it ("" where it does not)."""
    content: str
    """Its content as text (JSON text for structured results)."""


@dataclass(frozen=True, slots=True)
class Message:
    """One conversation turn, reduced to what synthesis, rules and token counts need."""

    role: str
    """``system``, ``user``, ``assistant`` or ``tool`` (a turn that carries tool results, for every API)."""
    text: str
    """All textual content of the turn joined (tool calls and results as JSON text)."""
    results: tuple[ToolResult, ...] = ()
    """The tool results this turn carries."""


@dataclass(frozen=True, slots=True)
class Tool:
    """A function the model may call."""

    name: str
    description: str = ""
    schema: Mapping[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})
    """Parameters as standard JSON Schema (codecs convert Gemini's OpenAPI form)."""


@dataclass(frozen=True, slots=True)
class ToolChoice:
    """Whether the model may, must or must not call a tool."""

    mode: Literal["auto", "none", "required"] = "auto"
    names: tuple[str, ...] = ()
    """When non-empty, only these tools may be called (a named choice has one)."""


@dataclass(frozen=True, slots=True)
class OutputFormat:
    """The shape the text answer must take."""

    kind: Literal["text", "json", "json_schema"] = "text"
    schema: Mapping[str, Any] | None = None
    """JSON Schema of the answer when ``kind`` is ``json_schema``."""
    name: str | None = None


@dataclass(frozen=True)
class Request:
    """What the client asked for, independent of provider."""

    api: str
    """Codec name: ``openai-chat``, ``openai-responses``, ``openai-completions``,
    ``anthropic-messages`` or ``gemini``."""
    endpoint: str
    """Endpoint name used for configuration and metrics (``chat-completions`` …)."""
    model: str
    messages: tuple[Message, ...] = ()
    system: str = ""
    """System prompt / instructions, joined."""
    tools: tuple[Tool, ...] = ()
    tool_choice: ToolChoice = ToolChoice()
    parallel_tool_calls: bool = True
    output: OutputFormat = OutputFormat()
    max_tokens: int | None = None
    """Output token limit; reaching it finishes with :attr:`Finish.LENGTH`."""
    stop: tuple[str, ...] = ()
    stream: bool = False
    n: int = 1
    """Number of candidates (OpenAI ``n``, Gemini ``candidateCount``)."""
    thinking: bool = False
    """Whether the reply should carry a thinking part first."""
    effort: str | int | None = None
    """What the request asks of a reasoning model's unseen reasoning: an effort name (``low`` …), a thinking
    budget in tokens (-1: the model decides), ``off``, or None when it says nothing."""
    lists_reasoning: bool = False
    """Whether the API lists a reasoning model's reasoning in every output, shown or not (Responses' item)."""
    caching: Literal["", "marked", "automatic"] = ""
    """How the API caches prompts: prefixes the request marks (``cache_control``), prefixes it finds itself, or
    not at all."""
    logprobs: bool = False
    top_logprobs: int = 0
    include_usage: bool = False
    """OpenAI ``stream_options.include_usage``."""
    seed: int | None = None
    body: Mapping[str, Any] = field(default_factory=dict)
    """The parsed request body, for fields a codec echoes back."""
    wire: Mapping[str, Any] = field(default_factory=dict)
    """Codec-private hints taken from the call and read back by the same codec when
    rendering (Gemini's ``alt=sse`` versus a JSON-array stream, for instance)."""


@dataclass(frozen=True, slots=True)
class Text:
    """Answer text."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCall:
    """A call of one of the request's tools."""

    id: str
    """Provider-neutral id stem; codecs add their prefix (``call_``, ``toolu_``)."""
    name: str
    arguments: str
    """The arguments as JSON text (an object)."""

    @property
    def input(self) -> Any:
        return json.loads(self.arguments) if self.arguments else {}


@dataclass(frozen=True, slots=True)
class Thinking:
    """Reasoning shown before the answer."""

    text: str
    signature: str = ""


@dataclass(frozen=True, slots=True)
class Opaque:
    """A part the neutral model does not interpret (server tools, citations …)."""

    kind: str
    data: Mapping[str, Any] = field(default_factory=dict)


Part = Text | ToolCall | Thinking | Opaque

REFUSAL = "refusal"
"""``Opaque.kind`` of a refusal, ``data["refusal"]`` its text: every codec shows it (OpenAI as a refusal, the
others as text)."""


def refusal(text: str) -> Opaque:
    """The model's words declining, as every codec reads them (a candidate holding one ends :attr:`Finish.REFUSAL`)."""
    return Opaque(REFUSAL, {"refusal": text})


class Finish(enum.StrEnum):
    """Why a candidate ended; codecs map it to their own names."""

    STOP = "stop"
    LENGTH = "length"
    TOOL_CALLS = "tool_calls"
    STOP_SEQUENCE = "stop_sequence"
    CONTENT_FILTER = "content_filter"
    REFUSAL = "refusal"
    """The model declined: its words are a :data:`REFUSAL` part (OpenAI ``message.refusal``, Anthropic
    ``stop_reason: refusal``, Gemini ``SAFETY``)."""
    BLOCKED = "blocked"
    """A filter refused the prompt before the model wrote anything (Gemini ``promptFeedback.blockReason``,
    Anthropic ``stop_reason: refusal`` with no content)."""
    OTHER = "other"


@dataclass(frozen=True, slots=True)
class Candidate:
    """One alternative answer (``choices[i]`` / ``candidates[i]``)."""

    parts: tuple[Part, ...]
    finish: Finish = Finish.STOP
    stop_sequence: str | None = None
    """The stop sequence that ended the text, when ``finish`` is ``STOP_SEQUENCE``."""
    output_tokens: int = 0

    @property
    def text(self) -> str:
        return "".join(p.text for p in self.parts if isinstance(p, Text))

    @property
    def tool_calls(self) -> tuple[ToolCall, ...]:
        return tuple(p for p in self.parts if isinstance(p, ToolCall))


@dataclass(frozen=True, slots=True)
class Usage:
    """Token counts of one exchange."""

    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    """Part of ``output_tokens`` spent on thinking."""
    cached_input_tokens: int = 0
    """Part of ``input_tokens`` read from the provider's prompt cache (OpenAI ``cached_tokens``, Anthropic
    ``cache_read_input_tokens``, Gemini ``cachedContentTokenCount``)."""
    cache_write_tokens: int = 0
    """Part of ``input_tokens`` written to the prompt cache (Anthropic ``cache_creation_input_tokens``)."""
    cache_write_1h_tokens: int = 0
    """Part of ``cache_write_tokens`` kept for an hour rather than five minutes (Anthropic ``ttl: "1h"``)."""

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class Reply:
    """What the model said."""

    id: str
    """Provider-neutral id stem; codecs add their prefix (``chatcmpl-``, ``msg_``)."""
    model: str
    created: int
    """Unix time in seconds."""
    candidates: tuple[Candidate, ...]
    usage: Usage = Usage()
    fingerprint: str = ""
    """``system_fingerprint`` for OpenAI; stable per model."""


class Frame(NamedTuple):
    """One piece of a response body to write, with when it is due.

    ``at`` is an offset in seconds from the start of the response. Sources that
    know the timing (replay) set it; otherwise the timing stage assigns it.
    A named tuple rather than a dataclass: every stream builds tens of them per
    request, twice, before its first byte, and tuples are built in a third of the time.
    """

    data: bytes
    at: float | None = None
    paced: bool = True
    """True when the frame carries new content and so takes a timing step of its
    own; bookkeeping frames (``message_start``, ``content_block_stop`` …) ride
    with the step before them."""


frame_of: Callable[[tuple[bytes, float | None, bool]], Frame] = functools.partial(tuple.__new__, Frame)
"""A :class:`Frame` from ``(data, at, paced)``, for the loops that build one per piece or event of every stream:
it skips the named tuple's generated ``__new__``, a Python-level call (~150 against ~300 ns a frame)."""


@dataclass(frozen=True, slots=True)
class QuotaState:
    """One quota as the rate-limit headers report it."""

    limit: int
    remaining: int
    reset_after: float
    """Seconds until the quota is whole again."""


@dataclass(frozen=True, slots=True)
class Quota:
    """What a provider's rate-limit headers tell a client about its quotas."""

    requests: QuotaState | None = None
    tokens: QuotaState | None = None
    retry_after: float | None = None
    """Set on a denial: seconds until a retry would be admitted."""


@dataclass(frozen=True, slots=True)
class Cut:
    """How an answer ends when it does not end cleanly; the writer carries it out."""

    how: Literal["reset", "close", "hang"]
    """``reset``: abort the connection (TCP RST); ``close``: close it (FIN) without
    finishing the body; ``hang``: send nothing more until the client gives up."""
    at: float | None = None
    """Offset from the start of the exchange; None: right after the last frame."""
    before_headers: bool = False
    """True when not even the status line is sent."""


@dataclass(frozen=True)
class Answer:
    """A complete HTTP answer: status, headers and the frames of its body."""

    status: int
    headers: tuple[tuple[str, str], ...]
    frames: tuple[Frame, ...]
    stream: bool = False
    """True for a chunked stream written frame by frame; False for one body."""
    steps: int = 1
    """For a non-stream answer: how many paced frames the same answer would have
    had as a stream, so that its latency matches the stream's duration."""
    headers_at: float = 0.0
    """Offset at which the status line and headers go out (slow headers)."""
    cut: Cut | None = None
    """An abnormal ending (injected faults); None for a complete answer."""
    live: LiveFrames | None = None
    """A stream whose frames are still arriving (a forwarded upstream's): written as they come, after
    ``frames``; None when every frame is known before the first byte."""

    @property
    def body(self) -> bytes:
        return b"".join(f.data for f in self.frames)


class LiveFrames(Protocol):
    """Frames that arrive while the answer is written, each with ``at`` its arrival offset (or later, where a
    stage holds it back). The writer iterates them once and then calls :meth:`close`."""

    def __aiter__(self) -> AsyncIterator[Frame]: ...

    @property
    def cut(self) -> Cut | None:
        """Read after the frames ran out: how the source's own stream ended badly, if it did."""
        ...

    def close(self, drain: bool = True) -> None:
        """The writer wants no more frames: done or cut short by a fault (``drain``: the source may read its own
        stream to the end, for a recording), or its client is gone (the source may stop reading)."""
