"""Outcomes: what should happen to one exchange, written in one small grammar.

The same spelling serves the ``x-llmreplay-fault`` header, scenario steps
(``429,429,ok``), the failure-injection kinds of the admin API and the dashboard::

    ok | 400 … 599 | KIND[@N | @N%][:MS][:close] | ALIAS

Which kinds exist, and which of ``@N``, ``:MS`` and ``:close`` each takes, is
declared once per kind in :mod:`llmreplay.shaping.faultkinds` (``GET /api/failure-modes``
lists them), and so are the aliases: bare words that mean another spelling (the original
server's error types, ``server_error`` for ``500``). Stream positions default to half the
stream. Parsing happens once per header or configuration change, never per chunk.

Numbers are bounded here, where they are read (:data:`MAX_POSITION`, :data:`MAX_MS`): a client's
``disconnect@`` with 400 nines is refused with what is allowed, not read as infinity and left to
overflow in a stage or to hold a stream for ever.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass

from llmreplay.shaping.faultkinds.registry import (
    ALIASES,
    CONTENT_KINDS,
    EARLY_KINDS,
    KINDS,
    MODES,
    STATUS,
    STREAM_KINDS,
)

DESCRIPTIONS: dict[str, str] = {m.name: m.description for m in MODES}
"""Every kind (and listed status), each with one line: the answer of ``GET /api/failure-modes``."""

MAX_POSITION = 1_000_000
"""The highest chunk position ``@N``: far past any real stream, whose every chunk is an event sent."""

MAX_MS = 600_000
"""The longest ``:MS``, ten minutes, as for the live latency fields: any longer wait is a hung stream."""

_SHOWN = 60
"""How much of a refused spelling a message repeats: enough to recognise it, not a header's whole length."""

_SPEC = re.compile(
    r"^(?P<kind>[a-z][a-z_-]*|\d{3})(?:@(?P<at>\d+(?:\.\d+)?)(?P<pct>%)?)?(?::(?P<ms>\d+(?:\.\d+)?))?(?::(?P<then>close))?$"
)


@dataclass(frozen=True, slots=True)
class Outcome:
    """One parsed outcome."""

    kind: str
    """``ok``, ``status`` or another fault kind's name (:data:`~llmreplay.shaping.faultkinds.registry.KINDS`)."""
    status: int | None = None
    at: float | None = None
    """Chunk position: a count, or a fraction of the stream when ``fraction``."""
    fraction: bool = False
    ms: float | None = None
    close: bool = False
    text: str = "ok"
    """The spelling it was parsed from (for logs, metrics and the dashboard)."""
    alias: str | None = None
    """The alias it was spelled as (``server_error``), which names it where a name is shown."""

    @property
    def name(self) -> str:
        """The metrics / failure-modes name: the alias, the status code or the kind."""
        if self.alias is not None:
            return self.alias
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


def _shown(text: str) -> str:
    return repr(text if len(text) <= _SHOWN else text[:_SHOWN] + "…")


def parse(text: str) -> Outcome:
    """One outcome; raises ValueError with a message that says what is allowed."""
    spec = text.strip().lower()
    m = _SPEC.match(spec)
    shown = _shown(text)
    if not m:
        raise ValueError(f"{shown} is not an outcome; expected e.g. ok, 429, timeout:5000, disconnect@5, stall@3:2000")
    kind, at, pct, ms, then = m["kind"], m["at"], m["pct"], m["ms"], m["then"]
    if kind.isdigit():
        code = int(kind)
        if not STATUS.lowest <= code <= STATUS.highest:
            raise ValueError(f"{shown}: an error status must be from {STATUS.lowest} to {STATUS.highest}")
        if at or ms or then:
            raise ValueError(f"{shown}: a status takes no @position or :duration")
        return Outcome(STATUS.name, status=code, text=spec)
    alias = ALIASES.get(kind)
    if alias is not None:
        if at or ms or then:
            raise ValueError(f"{shown}: {kind} takes no @position or :duration")
        return dataclasses.replace(parse(alias.means), text=spec, alias=kind)
    found = KINDS.get(kind)
    if found is None or found is STATUS:
        raise ValueError(f"{shown}: unknown outcome {kind!r}; known: {', '.join(DESCRIPTIONS)}")
    if at is not None and not found.position:
        raise ValueError(f"{shown}: {kind} takes no @position")
    if ms is not None and not found.duration:
        raise ValueError(f"{shown}: {kind} takes no :duration")
    if then and not found.closes:
        raise ValueError(f"{shown}: only {', '.join(k.name for k in KINDS.values() if k.closes)} takes :close")
    position = float(at) if at is not None else None
    if pct and (position or 0) > 100:
        raise ValueError(f"{shown}: a percentage must be at most 100")
    if position is not None and position > MAX_POSITION:
        raise ValueError(f"{shown}: a chunk position must be at most {MAX_POSITION}")
    duration = float(ms) if ms is not None else found.default_ms
    if duration is not None and duration > MAX_MS:
        raise ValueError(f"{shown}: a duration must be at most {MAX_MS} ms")
    return Outcome(
        kind,
        at=position,
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


__all__ = [
    "CONTENT_KINDS",
    "DESCRIPTIONS",
    "EARLY_KINDS",
    "MAX_MS",
    "MAX_POSITION",
    "OK",
    "STREAM_KINDS",
    "Outcome",
    "parse",
    "parse_sequence",
]
