"""Faults on a stream whose frames are still arriving (a forwarded upstream's).

A fault counts events, as on any other stream, not the network chunks they happen to arrive in: the frames are
cut into events as they come (:class:`~llmreplay.cassettes.splitter.EventSplitter`), only on a faulted stream.
At a chunk given by count (``@N``) the fault acts as the frames pass: the first N go on as they arrive, then
chunk N is changed, held back, or the stream ends (with the provider's error event, or a cut). A position
given as a share of the stream (``@N%``, or none) needs the stream's length, so :class:`Settled` reads the
upstream's answer to its end first and then shapes it like any timed stream, keeping its gaps. Either way the
source is told to read its own stream to the end (``close(drain=True)``), so a recording keeps it whole.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable
from typing import TYPE_CHECKING

from llmreplay.cassettes.splitter import EventSplitter
from llmreplay.model import Answer, Cut, Frame, LiveFrames
from llmreplay.shaping.clock import clock

if TYPE_CHECKING:
    from llmreplay.exchange import Exchange
    from llmreplay.shaping.outcomes import Outcome


@dataclasses.dataclass(frozen=True, slots=True)
class AtChunk:
    """What happens to a live stream at chunk ``n``."""

    n: int
    change: Callable[[Frame], Frame] | None = None
    """Chunk n (and only it) is sent changed."""
    delay: float = 0.0
    """Chunk n and every one after it come this much later."""
    tail: Callable[[list[Frame]], bytes | None] | None = None
    """What is sent after the first n chunks (given them), in place of the rest."""
    end: bool = False
    """The stream stops after the first n chunks (and the tail)."""
    cut: Cut | None = None
    """How the connection ends once the stream stops (``at`` counted from the last chunk sent)."""


def counted(outcome: Outcome) -> int | None:
    """The chunk a position given by count names (``@N``); None for a share of the stream."""
    return int(outcome.at) if outcome.at is not None and not outcome.fraction else None


def at_chunk(ex: Exchange, answer: Answer, how: AtChunk) -> Answer:
    events = _Events(answer)
    return dataclasses.replace(answer, frames=(), live=_AtChunk(ex.t0, (), events, how))


def shifted(answer: Answer, delay: float) -> Answer:
    """Every frame of a live stream ``delay`` later (a slow first token, slow headers)."""
    assert answer.live is not None
    how = AtChunk(0, delay=delay)
    return dataclasses.replace(answer, frames=(), live=_AtChunk(0.0, answer.frames, answer.live, how))


def settled(ex: Exchange, answer: Answer, shape: Callable[[Answer], Answer]) -> Answer:
    """The live stream read to its end, then ``shape`` d as a whole."""
    events = dataclasses.replace(answer, frames=(), live=_Events(answer))
    return dataclasses.replace(answer, frames=(), live=Settled(ex.t0, events, shape))


class _Over:
    """Live frames made from other live frames: the source's own ending, unless this one's, and closing
    passes through to the source."""

    def __init__(self, inner: LiveFrames) -> None:
        self._inner = inner
        self._cut: Cut | None = None

    @property
    def cut(self) -> Cut | None:
        return self._cut or self._inner.cut

    def close(self, drain: bool = True) -> None:
        self._inner.close(drain)


class _Events(_Over):
    """A live answer's frames (known and arriving) cut into whole events, each due when its last byte came."""

    def __init__(self, answer: Answer) -> None:
        assert answer.live is not None
        super().__init__(answer.live)
        ctype = next((v for k, v in answer.headers if k.lower() == "content-type"), "")
        self._known = answer.frames
        self._splitter = EventSplitter(ctype)

    def __aiter__(self) -> AsyncIterator[Frame]:
        return self._run()

    async def _run(self) -> AsyncIterator[Frame]:
        feed, at = self._splitter.feed, 0.0
        for f in self._known:
            at = f.at or 0.0
            for e in feed(f.data, 0):
                yield Frame(e.data, at=at)
        async for f in self._inner:
            at = f.at or 0.0
            for e in feed(f.data, 0):
                yield Frame(e.data, at=at)
        for e in self._splitter.finish(0):
            yield Frame(e.data, at=at)


class _AtChunk(_Over):
    def __init__(self, t0: float, known: tuple[Frame, ...], inner: LiveFrames, how: AtChunk) -> None:
        super().__init__(inner)
        self._t0, self._how = t0, how
        self._frames = self._run(known)
        self._last: float | None = None

    def __aiter__(self) -> AsyncIterator[Frame]:
        return self._frames

    async def _run(self, known: tuple[Frame, ...]) -> AsyncIterator[Frame]:
        how, i = self._how, 0
        sent: list[Frame] = []

        async def every() -> AsyncIterator[Frame]:
            for f in known:
                yield f
            async for f in self._inner:
                yield f

        async for frame in every():
            if i == how.n:
                if how.tail is not None and (data := how.tail(sent)) is not None:
                    yield Frame(data, at=self._last, paced=False)
                if how.end:
                    self._stop()
                    return
                if how.change is not None:
                    frame = how.change(frame)
            if i >= how.n and how.delay:
                frame = frame._replace(at=(frame.at if frame.at is not None else clock() - self._t0) + how.delay)
            self._last = frame.at
            i += 1
            if how.tail is not None and i <= how.n:
                sent.append(frame)
            yield frame
        if i <= how.n:
            # The stream had fewer chunks than n: what comes at its end comes anyway.
            if how.tail is not None and (data := how.tail(sent)) is not None:
                yield Frame(data, at=self._last, paced=False)
            if how.end:
                self._stop()

    def _stop(self) -> None:
        cut = self._how.cut
        if cut is not None:
            last = self._last if self._last is not None else clock() - self._t0
            self._cut = dataclasses.replace(cut, at=last + (cut.at or 0.0))


class Settled(_Over):
    """Live frames read to the end before the first goes out, then shaped as one timed stream. The shaped
    frames keep their gaps from the first, which leaves at once."""

    def __init__(self, t0: float, answer: Answer, shape: Callable[[Answer], Answer]) -> None:
        assert answer.live is not None
        super().__init__(answer.live)
        self._t0, self._answer, self._shape = t0, answer, shape

    def __aiter__(self) -> AsyncIterator[Frame]:
        return self._run()

    async def _run(self) -> AsyncIterator[Frame]:
        frames = list(self._answer.frames)
        async for f in self._inner:
            frames.append(f)
        if not frames:
            return
        # Held until now: every frame moves by the wait, so the gaps stay as the upstream sent them.
        start = frames[0].at or 0.0
        wait = clock() - self._t0 - start
        timed = tuple(f._replace(at=(f.at if f.at is not None else start) + wait) for f in frames)
        shaped = self._shape(dataclasses.replace(self._answer, frames=timed, live=None, stream=True))
        self._cut = shaped.cut
        for f in shaped.frames:
            yield f
