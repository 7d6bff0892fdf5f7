"""What a request costs the event loop of an in-process server, measured from inside it: how late a sleeping task
wakes (:class:`LoopLag`) and the most CPU one callback takes (:class:`LoopCpu`), which a busy machine does not
stretch the way it stretches wall-clock time; and from outside, the slowest ``/health`` answer meanwhile
(:class:`HealthPoller`)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
import requests


class LoopLag:
    """A task in the server's loop that sleeps ``every_s`` at a time and keeps the longest it overslept."""

    def __init__(self, loop: asyncio.AbstractEventLoop, every_s: float = 0.005) -> None:
        self.worst = 0.0
        self._every = every_s
        self._stop = threading.Event()
        self._done = asyncio.run_coroutine_threadsafe(self._run(), loop)

    async def _run(self) -> None:
        while not self._stop.is_set():
            before = time.perf_counter()
            await asyncio.sleep(self._every)
            self.worst = max(self.worst, time.perf_counter() - before - self._every)

    def stop(self) -> float:
        self._stop.set()
        self._done.result(10)
        return self.worst


class LoopCpu:
    """The most CPU time one callback of the server's loop took: the loop's own work between two chances to answer
    anyone, which a busy machine does not stretch (waiting for the GIL or for a core is not counted)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, thread: str = "llmreplay-server") -> None:
        self.worst = 0.0
        run = asyncio.events.Handle._run

        def timed(handle: asyncio.events.Handle) -> None:
            if threading.current_thread().name != thread:
                return run(handle)
            started = time.thread_time()
            try:
                return run(handle)
            finally:
                self.worst = max(self.worst, time.thread_time() - started)

        monkeypatch.setattr(asyncio.events.Handle, "_run", timed)


class HealthPoller:
    """Polls ``/health`` every 20 ms from a thread and keeps the slowest answer."""

    def __init__(self, url: str) -> None:
        self.slowest = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(url,))
        self._thread.start()

    def _run(self, url: str) -> None:
        with requests.Session() as http:
            while not self._stop.is_set():
                started = time.perf_counter()
                http.get(f"{url}/health", timeout=60).raise_for_status()
                self.slowest = max(self.slowest, time.perf_counter() - started)
                time.sleep(0.02)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.slowest
