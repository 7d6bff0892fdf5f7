"""The writer's own account of a stream's timing, for timing tests that must pass on a busy machine.

A client's stopwatch measures the server *and* everything else the machine is doing: two busy cores put
tens of milliseconds on any arrival. What the server promises is narrower and can be checked exactly: each
frame is *scheduled* at the exchange's start plus its offset, and no frame leaves before its deadline.
:func:`spy_on_streams` records, per stream, the start the writer was given, the deadlines it handed to the
scheduler and the moment each frame was written (on the writer's clock), without changing what is sent.

Lateness (how long after its deadline a frame left) is load and is not asserted here; benchmarks/ and the
``llmreplay_frame_lateness_seconds`` histogram measure it on a quiet machine.
"""

from __future__ import annotations

import contextvars
import dataclasses
import itertools
import threading
from array import array
from collections.abc import Iterable
from typing import Any

import pytest

from llmreplay.model import Answer
from llmreplay.runtime import RUNTIME
from llmreplay.server import BackgroundServer
from llmreplay.shaping import writer as writer_module
from llmreplay.shaping.timing import batches

TOLERANCE_S = 1e-6
"""Float slack when comparing deadlines computed two ways (start + offset): far below any gap tested."""


@dataclasses.dataclass
class Stream:
    """One stream as the writer saw it. Times are on the writer's clock (:data:`writer_module.clock`)."""

    writer: Any
    """The :class:`Writer` that sent it: tells one server's streams from another's in the same process."""
    t0: float
    """The exchange's start, as given to the writer."""
    offsets: list[float]
    """Each write's offset from ``t0`` in the answer (frames due together joined, as the writer joins them)."""
    submitted_at: float = 0.0
    """When the frames were handed to the scheduler."""
    due: list[float] = dataclasses.field(default_factory=list)
    """Each frame's deadline as handed to the scheduler."""
    sizes: list[int] = dataclasses.field(default_factory=list)
    """Each frame's payload bytes (without chunked framing): what the client reads for it."""
    sent: list[float] = dataclasses.field(default_factory=list)
    """When each frame was written to the socket."""

    @property
    def planned(self) -> list[float]:
        """The deadlines the answer asks for: start + offset."""
        return [self.t0 + at for at in self.offsets]

    @property
    def shift(self) -> float:
        """How far frames 1.. were moved later because the first left late (0 on time; see ``Writer.send``)."""
        return self.due[1] - self.planned[1] if len(self.due) > 1 else 0.0

    def check_schedule(self, offsets: Iterable[float]) -> None:
        """The frames were scheduled at ``t0 + offsets``: exactly, or with frames 1.. moved later by one
        shift, and only by as much as the first frame itself left late. Then no frame left early."""
        want = list(offsets)
        assert len(self.offsets) == len(want), (len(self.offsets), len(want))
        assert all(abs(a - b) <= TOLERANCE_S for a, b in zip(self.offsets, want, strict=True)), (self.offsets, want)
        assert len(self.due) == len(want) and abs(self.due[0] - self.planned[0]) <= TOLERANCE_S
        shift = self.shift
        assert shift >= -TOLERANCE_S, f"frames scheduled {-shift * 1000:.3f} ms early"
        for due, planned in zip(self.due[1:], self.planned[1:], strict=True):
            assert abs((due - planned) - shift) <= TOLERANCE_S, "the gaps after the first frame were not kept"
        # A shift is only ever the first frame's own lateness (no catch-up, no drift from anything else).
        assert shift <= self.sent[0] - self.due[0] + TOLERANCE_S, (shift, self.sent[0] - self.due[0])
        self.check_none_early()

    def check_none_early(self) -> None:
        assert len(self.sent) == len(self.due), f"{len(self.sent)} of {len(self.due)} frames written"
        early = [k for k, (s, d) in enumerate(zip(self.sent, self.due, strict=True)) if s < d]
        assert not early, f"frames written before their deadline: {early}"

    def check_reads_not_early(self, reads: list[tuple[float, int]]) -> None:
        """The client (``reads``: its clock time and byte count of each read of the body, on the writer's
        clock) had no frame whole before that frame's deadline: what the client saw follows the schedule."""
        assert sum(n for _, n in reads) == sum(self.sizes), "the client read other bytes than were written"
        ends = list(itertools.accumulate(self.sizes))
        got, at = 0, 0.0
        it = iter(reads)
        for k, end in enumerate(ends):
            # A read may complete several frames (late ones leave together): each is timed by that read.
            while got < end:
                at, n = next(it)
                got += n
            assert at >= self.due[k], f"frame {k} read {(self.due[k] - at) * 1000:.3f} ms before its deadline"


class _Watched:
    """The stream's transport as the scheduler sees it: each write is timed; everything else is the socket's."""

    def __init__(self, transport: Any, stream: Stream, stride: int) -> None:
        self._transport = transport
        self._stream = stream
        self._stride = stride

    def writelines(self, pieces: list[bytes]) -> None:
        self._transport.writelines(pieces)
        # Timed after the scheduler decided the frames were due, so ``sent >= due`` holds for a correct writer.
        now = writer_module.clock()
        self._stream.sent.extend([now] * (len(pieces) // self._stride))

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class Spy:
    """Every stream the writers of this process sent while installed."""

    def __init__(self) -> None:
        self.streams: list[Stream] = []
        self._lock = threading.Lock()

    def of(self, server: BackgroundServer) -> list[Stream]:
        """The streams that ``server`` sent (in-process servers share this spy)."""
        assert server.app is not None
        writer = server.app[RUNTIME].writer
        with self._lock:
            return [s for s in self.streams if s.writer is writer]

    def only(self, server: BackgroundServer) -> Stream:
        found = self.of(server)
        assert len(found) == 1, f"{len(found)} streams"
        return found[0]


_CURRENT: contextvars.ContextVar[Stream | None] = contextvars.ContextVar("llmreplay_test_stream", default=None)


def spy_on_streams(monkeypatch: pytest.MonkeyPatch) -> Spy:
    """Record every stream that in-process servers send until the test ends (``monkeypatch`` undoes it)."""
    spy = Spy()
    send, submit = writer_module.Writer.send, writer_module.Scheduler.submit

    async def spied_send(self: Any, request: Any, answer: Answer, t0: float, *args: Any) -> Any:
        stream = Stream(self, t0, [at for at, _ in batches(answer.frames)])
        # The scheduler is handed the frames inside this call, on this task: the context variable tells it whose.
        token = _CURRENT.set(stream)
        try:
            return await send(self, request, answer, t0, *args)
        finally:
            _CURRENT.reset(token)

    def spied_submit(self: Any, transport: Any, due: array[float], pieces: list[bytes], stride: int = 1) -> Any:
        stream = _CURRENT.get()
        if stream is None:
            return submit(self, transport, due, pieces, stride)
        stream.submitted_at = writer_module.clock()
        stream.due = list(due)
        middle = 1 if stride == 3 else 0  # chunked: size line, frame, CRLF
        stream.sizes = [len(pieces[k + middle]) for k in range(0, len(pieces), stride)]
        with spy._lock:
            spy.streams.append(stream)
        return submit(self, _Watched(transport, stream, stride), due, pieces, stride)

    monkeypatch.setattr(writer_module.Writer, "send", spied_send)
    monkeypatch.setattr(writer_module.Scheduler, "submit", spied_submit)
    return spy


def spy_on_answers(monkeypatch: pytest.MonkeyPatch) -> list[Answer]:
    """Every answer handed to a writer until the test ends, as handed: a plain answer's deadline is its frame's
    offset (``frames[0].at``), which :func:`spy_on_streams` does not see (only streams reach the scheduler)."""
    seen: list[Answer] = []
    send = writer_module.Writer.send

    async def spied(self: Any, request: Any, answer: Answer, t0: float, *args: Any) -> Any:
        seen.append(answer)
        return await send(self, request, answer, t0, *args)

    monkeypatch.setattr(writer_module.Writer, "send", spied)
    return seen


def steps(first: float, gap: float, n: int) -> list[float]:
    """Offsets of ``n`` frames: ``first``, then one ``gap`` each."""
    return [first + gap * k for k in range(n)]
