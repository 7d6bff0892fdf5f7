"""The one timer that notices a silent upstream stream (sources/silence.py), on an injected clock."""

from __future__ import annotations

from llmreplay.sources.response import UpstreamError
from llmreplay.sources.silence import Silence


class _Reader:
    """What the watcher reads of an answer's body: the bytes received, and the error it is given."""

    def __init__(self) -> None:
        self.total_bytes = 0
        self.error: BaseException | None = None
        self.eof = False

    def set_exception(self, exc: BaseException) -> None:
        self.error = exc

    def exception(self) -> BaseException | None:
        return self.error

    def is_eof(self) -> bool:
        return self.eof


class _Clock:
    def __init__(self) -> None:
        self.t = 100.0

    def __call__(self) -> float:
        return self.t


def _silence(clock: _Clock) -> Silence:
    return Silence(10.0, now=clock)


def _after(watch: Silence, clock: _Clock, seconds: float) -> None:
    """``seconds`` later, the timer's look (called here rather than waited for)."""
    clock.t += seconds
    watch._look()


async def test_a_stream_silent_for_the_timeout_gets_the_socket_timeout() -> None:
    clock, reader = _Clock(), _Reader()
    watch = _silence(clock)
    watch.watch(reader, lambda: reader.total_bytes)  # type: ignore[arg-type]
    _after(watch, clock, 9.9)
    assert reader.error is None
    _after(watch, clock, 0.1)
    assert isinstance(reader.error, UpstreamError) and reader.error.kind == "timeout"
    assert watch._timer is None  # nothing left to watch: no timer


async def test_bytes_arriving_start_the_silence_again() -> None:
    clock, reader = _Clock(), _Reader()
    watch = _silence(clock)
    watch.watch(reader, lambda: reader.total_bytes)  # type: ignore[arg-type]
    for _ in range(5):
        reader.total_bytes += 100
        _after(watch, clock, 8)
    _after(watch, clock, 9)
    assert reader.error is None
    watch.forget(reader)  # type: ignore[arg-type]
    assert watch._timer is None


async def test_bytes_waiting_to_be_read_are_a_slow_client_not_a_silent_upstream() -> None:
    clock, reader = _Clock(), _Reader()
    reader.total_bytes = 500
    taken = [0]
    watch = _silence(clock)
    watch.watch(reader, lambda: taken[0])  # type: ignore[arg-type]
    _after(watch, clock, 30)
    assert reader.error is None
    taken[0] = 500  # the client caught up: the upstream's silence is counted from the look that saw it
    _after(watch, clock, 5)
    assert reader.error is None
    _after(watch, clock, 5)
    assert isinstance(reader.error, UpstreamError) and reader.error.kind == "timeout"


async def test_a_finished_or_broken_body_is_let_go_not_timed_out() -> None:
    # The upstream sent its last byte (or its connection broke) and a slow client still holds the stream: nothing
    # more is awaited of the upstream, and the reader's own error, if any, is the one that stands.
    clock, done, broken = _Clock(), _Reader(), _Reader()
    done.eof = True
    drop = ConnectionResetError("gone")
    broken.set_exception(drop)
    watch = _silence(clock)
    for reader in (done, broken):
        watch.watch(reader, lambda: 0)  # type: ignore[arg-type]
    _after(watch, clock, 60)
    assert done.error is None and broken.error is drop
    assert watch._timer is None
