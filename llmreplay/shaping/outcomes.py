"""Outcomes: what should happen to one exchange, written in one small grammar.

The same spelling serves the ``x-llmreplay-fault`` header, scenario steps
(``429,429,ok``), the failure-injection kinds of the admin API and the dashboard::

    ok                        answer normally
    400 … 599                 that HTTP error, in the provider's own envelope (529: Anthropic overloaded)
    timeout | timeout:MS      accept and never answer | answer 504 after MS
    reset                     reset the connection before the status line
    empty                     close the connection with no status line
    slow-headers:MS           hold the status line back for MS
    slow-first-token:MS       hold the first content chunk back for MS more
    disconnect@N | @N%        reset the connection after N chunks (or N % of the stream)
    stall@N:MS[:close]        stop for MS after N chunks, then go on (or close)
    malformed@N               chunk N's data line is cut short (not JSON)
    stream-error@N            after N chunks, the provider's in-stream error event, then the end
    truncate                  the stream ends without its terminator ([DONE], message_stop …)

Stream positions default to half the stream. Parsing happens once per header or
configuration change, never per chunk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

STREAM_KINDS = frozenset({"disconnect", "stall", "malformed", "stream-error", "truncate", "slow-first-token"})
EARLY_KINDS = frozenset({"status", "timeout", "reset", "empty", "slow-headers"})

DESCRIPTIONS: dict[str, str] = {
    "ok": "Answer normally.",
    "400": "Bad request in the provider's envelope (OpenAI BadRequestError, Anthropic invalid_request_error).",
    "401": "Authentication error: invalid API key.",
    "403": "Permission denied.",
    "404": "Not found (model or path).",
    "429": "Rate limited, with retry-after and the provider's rate-limit headers.",
    "500": "Internal server error.",
    "502": "Bad gateway.",
    "503": "Service unavailable.",
    "504": "Gateway timeout.",
    "529": "Anthropic overloaded_error (other providers: 503 with their overloaded code).",
    "timeout": "Accept the request and never answer (timeout:MS answers 504 after MS).",
    "reset": "Reset the connection before any byte is sent.",
    "empty": "Close the connection without sending a status line.",
    "slow-headers": "Hold the status line back for MS (slow-headers:MS).",
    "slow-first-token": "Delay the first streamed chunk by MS more (slow-first-token:MS).",
    "disconnect": "Reset the connection mid-stream after N chunks or N% of the stream (disconnect@N, disconnect@50%).",
    "stall": "Stop sending for MS after N chunks, then continue, or close with :close (stall@N:MS[:close]).",
    "malformed": "Send chunk N with a data line that is not valid JSON (malformed@N).",
    "stream-error": "Send the provider's in-stream error event after N chunks and end the stream (stream-error@N).",
    "truncate": "End the stream without its terminator ([DONE], message_stop, response.completed).",
}
"""Every kind, each with one line: the answer of ``GET /api/failure-modes``."""

_DEFAULT_MS = {"timeout": None, "slow-headers": 5000, "slow-first-token": 5000, "stall": 5000}
_SPEC = re.compile(
    r"^(?P<kind>[a-z][a-z-]*|\d{3})(?:@(?P<at>\d+(?:\.\d+)?)(?P<pct>%)?)?(?::(?P<ms>\d+(?:\.\d+)?))?(?::(?P<then>close))?$"
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One parsed outcome."""

    kind: str
    """``ok``, ``status`` or one of the fault kinds above."""
    status: int | None = None
    at: float | None = None
    """Chunk position: a count, or a fraction of the stream when ``fraction``."""
    fraction: bool = False
    ms: float | None = None
    close: bool = False
    text: str = "ok"
    """The spelling it was parsed from (for logs, metrics and the dashboard)."""

    @property
    def name(self) -> str:
        """The metrics / failure-modes name: the status code or the kind."""
        return str(self.status) if self.kind == "status" else self.kind

    @property
    def is_ok(self) -> bool:
        return self.kind == "ok"

    def position(self, n_frames: int) -> int:
        """The chunk index the outcome applies at, for a stream of ``n_frames`` frames."""
        if self.at is None:
            return n_frames // 2
        if self.fraction:
            return int(n_frames * self.at / 100)
        return min(int(self.at), n_frames)


OK = Outcome("ok")


def parse(text: str) -> Outcome:
    """One outcome; raises ValueError with a message that says what is allowed."""
    spec = text.strip().lower()
    m = _SPEC.match(spec)
    if not m:
        raise ValueError(f"{text!r} is not an outcome; expected e.g. ok, 429, timeout:5000, disconnect@5, stall@3:2000")
    kind, at, pct, ms, then = m["kind"], m["at"], m["pct"], m["ms"], m["then"]
    if kind.isdigit():
        code = int(kind)
        if not 400 <= code <= 599:
            raise ValueError(f"{text!r}: an error status must be from 400 to 599")
        if at or ms or then:
            raise ValueError(f"{text!r}: a status takes no @position or :duration")
        return Outcome("status", status=code, text=spec)
    if kind not in DESCRIPTIONS:
        raise ValueError(f"{text!r}: unknown outcome {kind!r}; known: {', '.join(DESCRIPTIONS)}")
    takes_at = kind in {"disconnect", "stall", "malformed", "stream-error"}
    if at is not None and not takes_at:
        raise ValueError(f"{text!r}: {kind} takes no @position")
    if ms is not None and kind not in _DEFAULT_MS:
        raise ValueError(f"{text!r}: {kind} takes no :duration")
    if then and kind != "stall":
        raise ValueError(f"{text!r}: only stall takes :close")
    if pct and float(at or 0) > 100:
        raise ValueError(f"{text!r}: a percentage must be at most 100")
    duration = float(ms) if ms is not None else _DEFAULT_MS.get(kind)
    return Outcome(
        kind,
        at=float(at) if at is not None else None,
        fraction=bool(pct),
        ms=duration,
        close=bool(then),
        text=spec,
    )


def parse_sequence(text: str) -> tuple[Outcome, ...]:
    """A comma-separated scenario such as ``429,429,ok``; raises ValueError."""
    parts = [p for p in (x.strip() for x in text.split(",")) if p]
    if not parts:
        raise ValueError("a scenario needs at least one outcome, e.g. 429,ok")
    return tuple(parse(p) for p in parts)
