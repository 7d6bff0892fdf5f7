"""``--workers N``: N server processes on one port, started and stopped by a supervisor.

Each worker is a separate process that builds its own app from the same :class:`Settings` and
listens with ``SO_REUSEPORT``, so the Linux kernel spreads new connections over them; the
supervisor never accepts a connection itself. Only Linux balances ``SO_REUSEPORT`` listeners
(macOS and the BSDs hand everything to one socket, Windows has no such option), so more than one
worker is refused elsewhere.

Choices, and why:

- **spawn, not fork**: a worker starts from a fresh interpreter, so it inherits no event loop,
  threads, open cassette files or logging handlers from the supervisor, and
  ``PROMETHEUS_MULTIPROC_DIR`` (set here first) is seen when prometheus_client is first imported,
  which is when it picks its storage. The price is an import per worker (well under a second,
  paid in parallel, once).
- **ready pipe**: each worker sends ``("ready", pid, mode, source)`` once it listens, or
  ``("error", message)`` if it cannot; the banner is printed once every worker is listening.
- **a worker that dies unexpectedly is restarted** (logged with its exit status), because one
  crashed request handler should not take the server down; if restarts come too fast
  (:data:`MAX_RESTARTS` within :data:`RESTART_WINDOW_S`) the supervisor stops the rest and exits 1.
- **signals**: the first SIGTERM or Ctrl-C is passed to every worker as one SIGTERM (workers
  ignore SIGINT, so a terminal's Ctrl-C, sent to the whole process group, is not counted twice);
  each worker drains (see :mod:`llmreplay.serving`) and the supervisor exits 0 once all have
  exited 0. A second signal is passed on too (workers then exit at once) and the supervisor
  exits 1. Workers also get SIGTERM if the supervisor itself dies (Linux ``PR_SET_PDEATHSIG``).
- **metrics**: counters in ``/metrics`` are summed over all workers through prometheus_client's
  multiprocess mode (a temporary folder, removed on exit; ``mark_process_dead`` on each exit).
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from typing import Any

from llmreplay import logs
from llmreplay.config import Settings
from llmreplay.errors import ConfigError

log = logging.getLogger("llmreplay.workers")

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
WORKER_HEADER = "x-llmreplay-worker"
"""Response header naming the worker's pid (only under ``--workers`` > 1)."""
START_TIMEOUT_S = 60.0
MAX_RESTARTS = 5
RESTART_WINDOW_S = 60.0
EXIT_FORCED = 1
PER_WORKER = (
    "rate limits, scenarios, live config (admin API changes reach only the worker that answers) and the JSON metrics"
)


def reuse_port_supported() -> bool:
    """Whether several listeners on one port get the connections spread over them (Linux only)."""
    return sys.platform.startswith("linux") and hasattr(socket, "SO_REUSEPORT")


def check_supported(workers: int) -> None:
    """Raise :class:`ConfigError` (one line, exit 2) when ``workers`` > 1 cannot work here."""
    if workers > 1 and not reuse_port_supported():
        raise ConfigError(
            f"--workers {workers} needs SO_REUSEPORT load balancing, which only Linux has "
            f"(this is {sys.platform}); run with --workers 1"
        )


# ---- the worker ---------------------------------------------------------------------------------


def _die_with_parent() -> None:
    """Ask Linux to send SIGTERM when the supervisor dies, so no orphan keeps the port."""
    with contextlib.suppress(Exception):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, int(signal.SIGTERM), 0, 0, 0)


def _worker(index: int, settings: Settings, conn: Connection) -> None:
    """A worker's whole life: build the app, listen with SO_REUSEPORT, report, serve, drain."""
    _die_with_parent()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    logs.configure(settings.server.log_format)
    from llmreplay import serving

    pid = os.getpid()
    try:
        app = serving.build_app(settings)
        pid_text = str(pid)

        async def tag(request: Any, response: Any) -> None:
            response.headers[WORKER_HEADER] = pid_text

        app.on_response_prepare.append(tag)
        mode, source = serving.summary(app)
        s = settings.server
        serving.serve(
            app,
            s.host,
            s.port,
            drain_s=s.drain_s,
            reuse_port=True,
            on_listening=lambda: conn.send(("ready", pid, mode, source)),
            signals=(signal.SIGTERM,),
        )
    except ConfigError as exc:
        with contextlib.suppress(OSError):
            conn.send(("error", str(exc)))
        sys.exit(2)
    except Exception as exc:
        with contextlib.suppress(OSError):
            conn.send(("error", f"worker {index} failed to start: {exc!r}"))
        raise


# ---- the supervisor -----------------------------------------------------------------------------


@dataclass
class _Worker:
    index: int
    process: Any  # multiprocessing's SpawnProcess
    conn: Connection | None
    ready: bool = False
    pid: int = 0
    info: tuple[str, str] = ("", "")


@dataclass
class Supervisor:
    """Starts ``settings.server.workers`` workers, restarts crashed ones, stops all on a signal."""

    settings: Settings
    on_ready: Callable[[Settings, str, str, list[int]], None]
    """Called once, when every worker listens: (settings with the port bound, mode, source, worker pids)."""
    workers: list[_Worker] = field(default_factory=list)
    restarts: list[float] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ctx = multiprocessing.get_context("spawn")
        self._signals = 0
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_w, False)
        self._dir = ""
        self._running = False

    # -- lifecycle --------------------------------------------------------------------------------

    def run(self) -> int:
        """Run until stopped; the exit status (0 after a clean drain of every worker)."""
        check_supported(self.settings.server.workers)
        self._dir = tempfile.mkdtemp(prefix="llmreplay-metrics-")
        os.environ[MULTIPROC_ENV] = self._dir  # before any worker starts: spawn children inherit it
        previous = {sig: signal.signal(sig, self._on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
        holder = self._hold_port()
        try:
            for i in range(self.settings.server.workers):
                self.workers.append(self._start(i))
            return self._loop(holder)
        finally:
            if holder is not None:
                holder.close()
            for sig, handler in previous.items():
                signal.signal(sig, handler)
            for w in self.workers:
                self._reap(w)
            os.environ.pop(MULTIPROC_ENV, None)
            shutil.rmtree(self._dir, ignore_errors=True)
            os.close(self._wake_r)
            os.close(self._wake_w)

    def _hold_port(self) -> socket.socket | None:
        """With ``--port 0``, pick the port once so that every worker binds the same one.

        The socket is bound (SO_REUSEPORT) but never listens, so it receives no connection; it only
        keeps the port ours until the workers have bound it too.
        """
        s = self.settings.server
        if s.port != 0:
            return None
        family = socket.AF_INET6 if ":" in s.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        try:
            sock.bind((s.host, 0))
        except OSError as exc:
            sock.close()
            raise ConfigError(f"cannot listen on {s.host}:0: {exc.strerror or exc}") from None
        port = sock.getsockname()[1]
        self.settings = self.settings.model_copy(update={"server": s.model_copy(update={"port": port})})
        return sock

    def _start(self, index: int) -> _Worker:
        reader, writer = self._ctx.Pipe(duplex=False)
        p = self._ctx.Process(
            target=_worker, args=(index, self.settings, writer), name=f"llmreplay-worker-{index}", daemon=False
        )
        p.start()
        writer.close()
        return _Worker(index, p, reader, pid=p.pid or 0)

    def _on_signal(self, signum: int, frame: Any) -> None:
        self._signals += 1
        with contextlib.suppress(OSError):
            os.write(self._wake_w, b"!")

    def _signal_all(self, sig: signal.Signals) -> None:
        for w in self.workers:
            if w.process.exitcode is None and w.process.pid:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(w.process.pid, sig)

    def _reap(self, w: _Worker) -> None:
        from prometheus_client.multiprocess import mark_process_dead

        if w.conn is not None:
            w.conn.close()
            w.conn = None
        if w.process.exitcode is None:
            w.process.kill()
        w.process.join()
        if w.pid:
            with contextlib.suppress(OSError):
                mark_process_dead(w.pid, self._dir)

    # -- the loop ---------------------------------------------------------------------------------

    def _loop(self, holder: socket.socket | None) -> int:
        started = False
        handled = 0  # signals acted on
        deadline = time.monotonic() + START_TIMEOUT_S
        stop_deadline: float | None = None
        while True:
            if self._signals > handled:
                handled = self._signals
                if handled == 1:
                    log.info("stopping %d workers: each drains for up to %g s", len(self.workers), self._drain())
                    self._signal_all(signal.SIGTERM)
                    stop_deadline = time.monotonic() + self._drain() * 2 + 10
                else:
                    log.info("second signal: stopping the workers now")
                    self._signal_all(signal.SIGTERM)
                    self._wait_all(2.0)
                    return EXIT_FORCED
            if stop_deadline is not None:
                if all(w.process.exitcode is not None for w in self.workers):
                    codes = [w.process.exitcode for w in self.workers]
                    return 0 if all(c == 0 for c in codes) else 1
                if time.monotonic() > stop_deadline:
                    log.error("workers still running after the drain; killing them")
                    return 1
            elif not started:
                if all(w.ready for w in self.workers):
                    started = self._running = True
                    if holder is not None:
                        holder.close()
                    first = self.workers[0].info
                    self.on_ready(self.settings, first[0], first[1], [w.pid for w in self.workers])
                elif time.monotonic() > deadline:
                    raise ConfigError(f"workers did not start listening within {START_TIMEOUT_S:g} s")

            waitables: list[Any] = [self._wake_r]
            for w in self.workers:
                if w.conn is not None:
                    waitables.append(w.conn)
                if w.process.exitcode is None:
                    waitables.append(w.process.sentinel)
            for obj in wait(waitables, timeout=0.5):
                if obj == self._wake_r:
                    with contextlib.suppress(BlockingIOError):
                        os.read(self._wake_r, 512)
                    continue
                w = next((w for w in self.workers if obj is w.conn), None)
                if w is not None:
                    self._message(w)
            if stop_deadline is None:
                # Checked on every turn, not only when a sentinel fires: a worker may have died while
                # this loop was busy, and its sentinel is then no longer among the waitables.
                for w in list(self.workers):
                    if w.process.exitcode is not None:
                        self._died(w, started)

    def _drain(self) -> float:
        return self.settings.server.drain_s

    def _message(self, w: _Worker) -> None:
        assert w.conn is not None
        try:
            msg = w.conn.recv()
        except (EOFError, OSError):
            w.conn.close()
            w.conn = None
            return
        if msg[0] == "ready":
            w.ready, w.pid, w.info = True, msg[1], (msg[2], msg[3])
            if self._running:
                log.info("worker %d (pid %d) is listening", w.index, w.pid)
        elif msg[0] == "error":
            self._signal_all(signal.SIGTERM)
            self._wait_all(5.0)
            raise ConfigError(msg[1])

    def _died(self, w: _Worker, started: bool) -> None:
        w.process.join()
        code = w.process.exitcode
        if not started:
            self._signal_all(signal.SIGTERM)
            self._wait_all(5.0)
            raise ConfigError(f"worker {w.index} exited with status {code} before it was listening")
        log.error("worker %d (pid %d) exited unexpectedly with status %s; restarting it", w.index, w.pid, code)
        self._reap(w)
        now = time.monotonic()
        self.restarts = [t for t in self.restarts if now - t < RESTART_WINDOW_S] + [now]
        if len(self.restarts) > MAX_RESTARTS:
            self._signal_all(signal.SIGTERM)
            self._wait_all(self._drain() + 5)
            log.error("workers restarted %d times within %g s; giving up", len(self.restarts), RESTART_WINDOW_S)
            raise SystemExit(1)
        self.workers[w.index] = self._start(w.index)

    def _wait_all(self, timeout_s: float) -> None:
        end = time.monotonic() + timeout_s
        for w in self.workers:
            w.process.join(max(0.0, end - time.monotonic()))


def supervise(settings: Settings, on_ready: Callable[[Settings, str, str, list[int]], None]) -> int:
    """Run ``settings.server.workers`` workers until a signal; the exit status."""
    return Supervisor(settings, on_ready).run()
