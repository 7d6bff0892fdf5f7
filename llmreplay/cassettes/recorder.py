"""The crash-safe appending recorder: interactions added to a cassette file one whole object at a time.

Every interaction reaches the disk as a single ``write`` of its whole encoding followed by ``fsync``, so a
crash (even ``kill -9``) can only leave a partial object at the very end; a :class:`Recorder` reopening
the file cuts it off before appending. One writer per cassette: a new file is created whole and never
replaced (:func:`~llmreplay.cassettes.store.create_exclusively`), and an exclusive ``flock`` taken before
anything is read or written keeps a second recorder out.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import threading
from collections.abc import Sequence
from contextlib import suppress
from pathlib import Path
from types import TracebackType

import msgpack

from llmreplay.cassettes.model import Header, Interaction
from llmreplay.cassettes.provenance import RECORDED
from llmreplay.cassettes.store import CassetteError, check_for_append, create_exclusively, new_header

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows has no flock; recording there is single-process by convention
    fcntl = None  # type: ignore[assignment]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def _inode(path: Path) -> int | None:
    try:
        return path.stat().st_ino
    except OSError:
        return None


class Recorder:
    """Appends interactions to one cassette file, safely across threads and crashes.

    Holds an exclusive ``flock`` on the file while open, so a second recorder
    (in this or another process) fails instead of interleaving with this one.
    """

    def __init__(self, path: str | Path, upstream: str) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        self._fd: int | None = None
        self._queued: list[tuple[Interaction, asyncio.Future[None]]] = []
        self._committer: asyncio.Task[None] | None = None
        # Created whole or not at all, never replaced: a recorder that found no file and one that made it in the
        # meantime then open the same file, and the lock below lets only one of them write.
        if not self.path.exists():
            # Each recording says how it was made; the header says the file was started by a recorder.
            header = dataclasses.replace(new_header(upstream), provenance={"how": RECORDED})
            create_exclusively(self.path, [msgpack.packb(header.to_obj(), use_bin_type=True)])
        fd = self._open()
        try:
            self.header, self._size = self._recover(fd)
        except BaseException:
            os.close(fd)
            raise
        self._fd = fd

    def _open(self) -> int:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_APPEND | getattr(os, "O_BINARY", 0))
        except OSError as e:
            raise CassetteError(f"{self.path}: cannot open for recording: {e.strerror or e}") from None
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                os.close(fd)
                raise CassetteError(f"{self.path}: already being recorded by another recorder") from None
            if os.fstat(fd).st_ino != _inode(self.path):
                # Replaced (a rewrite by another tool) between our open and our lock: appends would be lost.
                os.close(fd)
                raise CassetteError(f"{self.path}: replaced while opening it for recording; try again") from None
        return fd

    def _recover(self, fd: int) -> tuple[Header, int]:
        """Validate the file and cut off a partial interaction left by a crash; returns the header and size."""
        header, end, size = check_for_append(self.path)
        if end < size:
            os.ftruncate(fd, end)
            os.fsync(fd)
        return header, end

    def append(self, interaction: Interaction) -> None:
        self.append_many([interaction])

    def append_many(self, interactions: Sequence[Interaction]) -> None:
        """Append all of ``interactions`` with one write and one ``fsync``: all of them or, on failure, none."""
        data = b"".join(msgpack.packb(it.to_obj(), use_bin_type=True) for it in interactions)
        with self._lock:
            if self._fd is None:
                raise CassetteError(f"{self.path}: recorder is closed")
            try:
                _write_all(self._fd, data)
                os.fsync(self._fd)
            except BaseException:
                # A half-written object would hide every later append from readers: take it back.
                with suppress(OSError):
                    os.ftruncate(self._fd, self._size)
                raise
            self._size += len(data)

    async def append_async(self, interaction: Interaction) -> None:
        """Append off the event loop; returns once the interaction is on disk.

        Group commit: appends that come while a write is under way wait for the next one, which takes them
        all with a single ``fsync``. Two hundred streams ending together cost a few ``fsync`` calls instead
        of two hundred queued one behind the other.
        """
        loop = asyncio.get_running_loop()
        done: asyncio.Future[None] = loop.create_future()
        self._queued.append((interaction, done))
        if self._committer is None:
            self._committer = loop.create_task(self._commit_queued())
        await done

    async def _commit_queued(self) -> None:
        loop = asyncio.get_running_loop()
        try:
            while self._queued:
                batch = self._queued
                self._queued = []
                try:
                    await loop.run_in_executor(None, self.append_many, [it for it, _ in batch])
                except Exception as exc:
                    for _, done in batch:
                        if not done.done():
                            done.set_exception(exc)
                except BaseException:
                    # Cancelled (the loop is closing): no waiter may be left hanging.
                    cut = CassetteError(f"{self.path}: recording cut short")
                    for _, done in (*batch, *self._queued):
                        if not done.done():
                            done.set_exception(cut)
                    self._queued = []
                    raise
                else:
                    for _, done in batch:
                        if not done.done():
                            done.set_result(None)
        finally:
            self._committer = None

    async def drain(self) -> None:
        """Wait until every append already asked for is on disk (or has failed)."""
        while self._committer is not None:
            await asyncio.wait({self._committer})

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)  # also releases the flock
                self._fd = None

    def __enter__(self) -> Recorder:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
