"""The timing stage: gives every frame its due time.

Deadlines are offsets from the exchange's start. The first frames go out at the
time to first token; each later *paced* frame (one carrying new content) comes
one gap plus a jitter draw after the one before; bookkeeping frames ride with the
paced frame before them. A non-stream answer is due when the same answer, streamed,
would have ended. Frames that already carry a time (replay) keep it.

Under load degradation every one of those latencies is multiplied by the exchange's load factor
(:func:`load_factor`, taken once per exchange). An answer decided before generation (a refusal: an error, a
429, a switched-off endpoint) is not timed as a reply at all: it is due after the short error delay
(:func:`refused`), as a real provider refuses at once.

With no latency at all (the load tests' setting) the stage gives no times: an untimed frame is due at once.
"""

from __future__ import annotations

import dataclasses
import random

from llmreplay.configmodels import LatencyConfig
from llmreplay.exchange import Exchange
from llmreplay.model import Answer, Frame, frame_of


def load_factor(lat: LatencyConfig, in_flight: int) -> float:
    """The latency multiplier with ``in_flight`` requests on the endpoint (this one included): 1× for one,
    rising linearly to ``load_factor`` at ``load_knee`` in flight, and no higher beyond."""
    if in_flight >= lat.load_knee:
        return lat.load_factor
    if in_flight <= 1:
        return 1.0
    return 1.0 + (lat.load_factor - 1.0) * (in_flight - 1) / (lat.load_knee - 1)


def refused(answer: Answer, lat: LatencyConfig) -> Answer:
    """``answer``, decided before any generation, due after the error delay; an answer that carries its own
    times (``timeout:MS``) keeps them."""
    frames = answer.frames
    if frames and all(f.at is not None for f in frames):
        return answer
    at = lat.error_delay_ms / 1000
    timed = tuple(f._replace(at=at) for f in frames) if frames else (Frame(b"", at=at),)
    return dataclasses.replace(answer, frames=timed)


def offsets(frames: tuple[Frame, ...], ttft: float, gap: float, jitter: float, rng: random.Random) -> list[float]:
    """The due time, in seconds, of each frame."""
    out: list[float] = []
    t = ttft
    started = False
    # jitter * random() is what uniform(0, jitter) computes, without a Python call per frame.
    draw = rng.random
    for f in frames:
        if f.at is not None:
            t = f.at
            started = True
        elif f.paced:
            if started:
                t += gap + jitter * draw() if jitter > 0 else gap
            started = True
        out.append(t)
    return out


def body_delay(steps: int, ttft: float, gap: float, jitter: float, rng: random.Random) -> float:
    """When a non-stream answer of ``steps`` content steps is due."""
    t = ttft
    draw = rng.random
    for _ in range(max(0, steps - 1)):
        t += gap + jitter * draw() if jitter > 0 else gap
    return t


class TimingStage:
    """Assigns deadlines from the exchange's latency settings."""

    name = "timing"

    def admit(self, ex: Exchange) -> Answer | None:
        return None

    def shape(self, ex: Exchange, answer: Answer) -> Answer:
        lat = ex.latency
        load = ex.load  # 1.0 unless load degradation is on
        ttft, gap = lat.initial_delay_ms / 1000 * load, lat.delay_ms / 1000 * load
        jitter = lat.jitter_ms / 1000 * load
        if not (ttft or gap or jitter) and (ex.outcome is None or ex.outcome.is_ok):
            # Nothing is delayed: every frame is due at once, which is what the writer reads an untimed frame as
            # (stamping each with 0 cost more than the rest of the stage). A fault placed after this stage reads
            # the frames' times, so it has them.
            return answer
        if not answer.stream:
            if answer.frames and answer.frames[0].at is not None:
                return answer
            at = body_delay(answer.steps, ttft, gap, jitter, ex.rng) if ex.request is not None else 0.0
            return dataclasses.replace(answer, frames=(Frame(answer.body, at=at),))
        if all(f[1] is not None for f in answer.frames):
            return answer  # every frame keeps the time it carries (a replay): nothing to assign
        times = offsets(answer.frames, ttft, gap, jitter, ex.rng)
        frames = tuple([frame_of((f[0], at, f[2])) for f, at in zip(answer.frames, times, strict=True)])
        return dataclasses.replace(answer, frames=frames)


def batches(frames: tuple[Frame, ...]) -> list[tuple[float, bytes]]:
    """Frames due at the same time joined into one write: (offset, bytes), in order.

    A batch's pieces are gathered first and joined once: adding each frame to the bytes so far copied the
    whole batch again per frame, quadratic when thousands of frames share a due time (a gap-0 stream).
    """
    out: list[tuple[float, bytes]] = []
    pieces: list[bytes] = []
    due = 0.0
    for f in frames:
        at = f.at or 0.0
        if pieces and at != due:
            out.append((due, pieces[0] if len(pieces) == 1 else b"".join(pieces)))
            pieces = []
        due = at
        pieces.append(f.data)
    if pieces:
        out.append((due, pieces[0] if len(pieces) == 1 else b"".join(pieces)))
    return out
