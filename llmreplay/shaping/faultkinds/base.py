"""The contract every fault kind follows, and what the kinds share.

A kind is a small object with two hooks, like a Toxiproxy toxic:

- ``admit(ex, outcome)``: before any frame exists; may answer at once (an error, a
  hang, a reset). Kinds that act later answer None.
- ``shape(ex, answer, outcome)``: after timing, before the first byte is written;
  returns the answer to send (frames cut, shifted or garbled, a ``Cut`` set).

Both are plain and synchronous: no I/O, no sleeping; time is only ever written
into frame deadlines. Besides the hooks a kind declares what the outcome grammar
lets it take (``@N``, ``:MS``, ``:close``) and the line(s) it adds to
``GET /api/failure-modes``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar, Literal

from llmreplay.errors import ApiError, ErrorKind, kind_for_status
from llmreplay.model import Answer, Frame, Quota
from llmreplay.shaping.faultkinds.live import AtChunk, at_chunk, counted, settled

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange
    from llmreplay.shaping.outcomes import Outcome

When = Literal["never", "before any byte", "mid-stream", "in the reply"]
"""When a kind acts: ``before any byte`` of the answer is sent (status line included), ``mid-stream``,
once the status line is out (a non-stream body is broken the same way), or ``in the reply``: what the model
says (a refusal, a filter, a bad tool call), rendered as the provider renders it, instead of the reply."""


@dataclass(frozen=True, slots=True)
class Mode:
    """One line of ``GET /api/failure-modes`` (and of the docs table)."""

    name: str
    """The name metrics and the admin API use: the kind, or a status code."""
    syntax: str
    """Its spellings, alternatives separated by `` | ``."""
    description: str
    when: When
    example: str
    """A spelling with its parameters filled in, which the dashboard offers."""


class FaultKind:
    """Base of the fault kinds: metadata, and hooks that do nothing."""

    name: ClassVar[str]
    """``Outcome.kind``: the word that starts its spelling."""
    syntax: ClassVar[str] = ""
    """Its spellings (defaults to the bare name)."""
    description: ClassVar[str]
    when: ClassVar[When]
    example: ClassVar[str] = ""
    """A spelling with parameters, for kinds that take any (defaults to the bare name)."""
    position: ClassVar[bool] = False
    """Takes ``@N`` / ``@N%``: a chunk position."""
    duration: ClassVar[bool] = False
    """Takes ``:MS``."""
    default_ms: ClassVar[float | None] = None
    """The duration when ``:MS`` is left out."""
    closes: ClassVar[bool] = False
    """Takes ``:close`` after its duration."""

    def modes(self) -> tuple[Mode, ...]:
        """Its lines in ``GET /api/failure-modes``: one, unless a kind has several names (statuses)."""
        return (Mode(self.name, self.syntax or self.name, self.description, self.when, self.example or self.name),)

    def admit(self, ex: Exchange, outcome: Outcome) -> Answer | None:
        """An answer before any frame exists, or None to let the exchange go on."""
        return None

    def shape(self, ex: Exchange, answer: Answer, outcome: Outcome) -> Answer:
        """The timed answer as this fault leaves it."""
        return answer


class BrokenStream(FaultKind):
    """A kind that breaks the body after the status line: a stream at a chunk, a plain body its own way."""

    when: ClassVar[When] = "mid-stream"

    def shape(self, ex: Exchange, answer: Answer, outcome: Outcome) -> Answer:
        if answer.live is not None:
            return self.live(ex, answer, outcome)
        if answer.stream:
            return self.stream(ex, answer, outcome, list(answer.frames))
        return self.body(ex, answer, outcome)

    def live(self, ex: Exchange, answer: Answer, outcome: Outcome) -> Answer:
        """A stream still arriving: broken as its events pass where the kind says how at a position given by
        count (:meth:`at_chunk`); else read to its end, then broken like any stream."""
        n = counted(outcome)
        how = None if n is None else self.at_chunk(ex, outcome, n)
        if how is not None:
            return at_chunk(ex, answer, how)
        return settled(ex, answer, lambda whole: self.stream(ex, whole, outcome, list(whole.frames)))

    def at_chunk(self, ex: Exchange, outcome: Outcome, n: int) -> AtChunk | None:
        """What the fault does to a live stream at event ``n``; None: it needs the whole stream."""
        return None

    def stream(self, ex: Exchange, answer: Answer, outcome: Outcome, frames: list[Frame]) -> Answer:
        return answer

    def body(self, ex: Exchange, answer: Answer, outcome: Outcome) -> Answer:
        return answer


# ---- shared by the kinds ------------------------------------------------------------------

HANG_LIMIT_S = 900.0
"""How long a ``timeout`` without a duration holds the connection before closing it."""

_MESSAGES: dict[int, str] = {
    400: "Invalid request (injected by llmreplay).",
    401: "Incorrect API key provided (injected by llmreplay).",
    403: "You are not allowed to use this resource (injected by llmreplay).",
    404: "The requested resource does not exist (injected by llmreplay).",
    429: "Rate limit reached; please try again later (injected by llmreplay).",
    500: "The server had an error while processing your request (injected by llmreplay).",
    502: "Bad gateway (injected by llmreplay).",
    503: "The service is temporarily unavailable (injected by llmreplay).",
    504: "The request timed out (injected by llmreplay).",
    529: "Overloaded",
}

_RETRYABLE = frozenset({429, 503, 529})
"""Statuses whose real answers carry retry-after."""


def injected_error(status: int, retry_after_s: float | None) -> ApiError:
    """The error a fault answers with; the codec renders it in its provider's envelope."""
    kind = kind_for_status(status)
    err = ApiError(kind, _MESSAGES.get(status, f"Injected error {status}."))
    # OVERLOADED keeps no status of its own: each codec knows the status its provider sends for it.
    if kind.status != status and kind is not ErrorKind.OVERLOADED:
        err.status = status
    if status in _RETRYABLE and retry_after_s is not None:
        err.retry_after = retry_after_s
    return err


def retry_after_s(ex: Exchange) -> float:
    """The wait an injected 429/5xx asks for: the request's header, else the endpoint's configuration."""
    ms = ex.directives.retry_after_ms
    return (ms if ms is not None else ex.config.failures.retry_after_ms) / 1000


def error_answer(ex: Exchange, err: ApiError) -> Answer:
    """``err`` in the route's envelope, with the provider's rate-limit headers when it asks for a wait."""
    codec = ex.route.codec
    if err.retry_after is not None:
        err.headers.update(codec.quota_headers(Quota(retry_after=err.retry_after)))
    return codec.render_error(err, ex.opts)


def shift(frames: Sequence[Frame], start: int, delay: float) -> tuple[Frame, ...]:
    """The frames from ``start`` on, ``delay`` seconds later; the ones before as they were."""
    return tuple(f._replace(at=(f.at or 0.0) + delay) if i >= start else f for i, f in enumerate(frames))


def last_at(kept: Sequence[Frame], frames: Sequence[Frame]) -> float | None:
    """When the last kept frame is due (the first frame's time when none is kept): where a cut goes."""
    return kept[-1].at if kept else frames[0].at if frames else 0.0


def seconds(outcome: Outcome) -> float:
    return (outcome.ms or 0) / 1000


__all__ = [
    "HANG_LIMIT_S",
    "BrokenStream",
    "FaultKind",
    "Mode",
    "When",
    "error_answer",
    "injected_error",
    "last_at",
    "retry_after_s",
    "seconds",
    "shift",
]
