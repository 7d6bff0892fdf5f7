"""Failure injection: the outcome of each exchange and what it does to the answer.

``FaultStage`` (an admission stage) settles the outcome: the one the request
asked for (header or scenario), else a draw from the endpoint's error rate and
weighted kinds. Errors before any byte are answered there, in the provider's
envelope. ``StreamFaultStage`` runs after the timing stage and rewrites the timed
frames for faults that happen later (disconnects, stalls, malformed chunks,
in-stream errors, truncation, slow headers or first token), all before the first
byte is written.
"""

from __future__ import annotations

import dataclasses
import random

from llmreplay.errors import ApiError, ErrorKind, kind_for_status
from llmreplay.exchange import Exchange
from llmreplay.model import Answer, Cut, Frame, Quota
from llmreplay.shaping.outcomes import OK, Outcome, parse

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

HANG_LIMIT_S = 900.0
"""How long a ``timeout`` without a duration holds the connection before closing it."""


def injected_error(status: int, retry_after_s: float | None) -> ApiError:
    kind = kind_for_status(status)
    err = ApiError(kind, _MESSAGES.get(status, f"Injected error {status}."))
    if kind.status != status and kind is not ErrorKind.OVERLOADED:
        err.status = status
    if status in _RETRYABLE and retry_after_s is not None:
        err.retry_after = retry_after_s
    return err


class FaultStage:
    """Settles the exchange's outcome and answers faults that come before any byte."""

    name = "faults"

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()
        self._kinds_cache: dict[tuple[tuple[str, float], ...], tuple[list[Outcome], list[float]]] = {}

    def admit(self, ex: Exchange) -> Answer | None:
        if ex.outcome is None:
            ex.outcome = self._draw(ex)
        outcome = ex.outcome
        if outcome.kind == "status":
            return self._error(ex, injected_error(outcome.status or 500, self._retry_after(ex)))
        if outcome.kind == "timeout":
            if outcome.ms is None:
                return Answer(0, (), (), cut=Cut("hang", at=HANG_LIMIT_S, before_headers=True))
            answer = self._error(ex, injected_error(504, None))
            return dataclasses.replace(answer, frames=(Frame(answer.body, at=outcome.ms / 1000),))
        if outcome.kind in ("reset", "empty"):
            return Answer(0, (), (), cut=Cut("reset" if outcome.kind == "reset" else "close", before_headers=True))
        return None

    def shape(self, ex: Exchange, answer: Answer) -> Answer:
        return answer

    def _draw(self, ex: Exchange) -> Outcome:
        failures = ex.config.failures
        if failures.error_rate <= 0 or self._rng.random() >= failures.error_rate:
            return OK
        key = tuple(failures.kinds.items())
        table = self._kinds_cache.get(key)
        if table is None:
            table = ([parse(k) for k, _ in key], [w for _, w in key])
            self._kinds_cache[key] = table
        if not table[0] or sum(table[1]) <= 0:
            return OK
        return self._rng.choices(table[0], weights=table[1])[0]

    @staticmethod
    def _retry_after(ex: Exchange) -> float:
        ms = ex.directives.retry_after_ms
        return (ms if ms is not None else ex.config.failures.retry_after_ms) / 1000

    @staticmethod
    def _error(ex: Exchange, err: ApiError) -> Answer:
        codec = ex.route.codec
        if err.retry_after is not None:
            err.headers.update(codec.quota_headers(Quota(retry_after=err.retry_after)))
        return codec.render_error(err, ex.opts)


class StreamFaultStage:
    """Applies the faults that happen after the first byte to the already timed frames."""

    name = "stream-faults"

    def admit(self, ex: Exchange) -> Answer | None:
        return None

    def shape(self, ex: Exchange, answer: Answer) -> Answer:
        outcome = ex.outcome
        if outcome is None or outcome.kind in ("ok", "status", "timeout", "reset", "empty") or answer.status >= 400:
            return answer
        frames = list(answer.frames)
        kind = outcome.kind
        if kind == "slow-headers":
            delay = (outcome.ms or 0) / 1000
            return dataclasses.replace(answer, headers_at=delay, frames=_shift(frames, 0, delay))
        if kind == "slow-first-token":
            return dataclasses.replace(answer, frames=_shift(frames, 0, (outcome.ms or 0) / 1000))
        if not answer.stream:
            return self._body_fault(ex, answer, outcome)
        n = outcome.position(len(frames))
        if kind == "disconnect":
            kept = tuple(frames[:n])
            at = kept[-1].at if kept else frames[0].at if frames else 0.0
            return dataclasses.replace(answer, frames=kept, cut=Cut("reset", at=at))
        if kind == "stall":
            delay = (outcome.ms or 0) / 1000
            if outcome.close:
                kept = tuple(frames[:n])
                last = kept[-1].at if kept and kept[-1].at is not None else 0.0
                return dataclasses.replace(answer, frames=kept, cut=Cut("close", at=last + delay))
            return dataclasses.replace(answer, frames=_shift(frames, n, delay))
        if kind == "malformed":
            # A content frame: bookkeeping events (Anthropic's ping) may be skipped unparsed by the SDKs.
            i = next((j for j in range(n, len(frames)) if frames[j].paced), min(n, len(frames) - 1))
            if i >= 0:
                frames[i] = frames[i]._replace(data=malformed(frames[i].data))
            return dataclasses.replace(answer, frames=tuple(frames))
        if kind == "stream-error":
            kept = frames[:n]
            err = injected_error(529 if ex.route.codec.api.startswith("anthropic") else 500, None)
            data = ex.route.codec.in_stream_error(err, ex.opts, kept)
            if data is not None:
                at = kept[-1].at if kept else frames[0].at if frames else 0.0
                kept.append(Frame(data, at=at, paced=False))
            return dataclasses.replace(answer, frames=tuple(kept))
        if kind == "truncate":
            return dataclasses.replace(answer, frames=tuple(frames[:-1]))
        return answer

    @staticmethod
    def _body_fault(ex: Exchange, answer: Answer, outcome: Outcome) -> Answer:
        """A non-stream body broken the same ways: cut short, garbled or late."""
        body = answer.body
        at = answer.frames[0].at if answer.frames else 0.0
        kind = outcome.kind
        if kind == "stall":
            delay = (outcome.ms or 0) / 1000
            if outcome.close:
                return dataclasses.replace(answer, frames=(), cut=Cut("close", at=(at or 0.0) + delay))
            return dataclasses.replace(answer, frames=_shift(list(answer.frames), 0, delay))
        half = body[: len(body) // 2]
        if kind == "disconnect":
            return dataclasses.replace(answer, stream=True, frames=(Frame(half, at=at),), cut=Cut("reset", at=at))
        if kind in ("malformed", "truncate"):
            return dataclasses.replace(answer, frames=(Frame(half, at=at),))
        if kind == "stream-error":
            err = injected_error(500, None)
            return ex.route.codec.render_error(err, ex.opts)
        return answer


def _shift(frames: list[Frame], start: int, delay: float) -> tuple[Frame, ...]:
    return tuple(f._replace(at=(f.at or 0.0) + delay) if i >= start else f for i, f in enumerate(frames))


def malformed(data: bytes) -> bytes:
    """The frame with its JSON payload cut in half: the line is no longer JSON, the framing stays."""
    marker = data.find(b"data:")
    if marker < 0:
        # A JSON-array stream element: cut the element itself.
        body = data.rstrip()
        return body[: max(1, len(body) // 2)] + data[len(body) :]
    start = marker + 5
    end = data.find(b"\n", start)
    end = len(data) if end < 0 else end
    line = data[start:end].rstrip(b"\r")
    cut = line[: max(2, len(line) // 2)]
    if cut.strip() == b"[DONE]" or not cut.strip().startswith(b"{"):
        cut = b" {not json"
    return data[:start] + cut + data[start + len(line) :]
