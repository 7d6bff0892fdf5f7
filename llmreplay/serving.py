"""Running one server process: listen, and on SIGTERM or Ctrl-C drain, then exit.

Why not ``web.run_app``: in aiohttp 3.14 its first signal raises ``GracefulExit``, and a second one
during the drain escapes from its cleanup with ``GracefulExit.code`` but only after ``_cancel_tasks``
has run the loop again; and it cannot tell the caller (the worker supervisor) when it is listening.
Here the sequence is explicit:

1. first SIGTERM / SIGINT: the listening socket is closed at once (new connections are refused),
   idle keep-alive connections are closed, and requests and streams in flight get ``drain_s``
   seconds to finish (aiohttp's ``shutdown_timeout``; after that they are cancelled);
   then the app's cleanup runs (the cassette deck is closed) and the process exits 0;
2. a second SIGTERM / SIGINT while draining: exit at once with :data:`EXIT_FORCED` (1). Recordings
   already appended are on disk (the recorder fsyncs each one); a stream in flight is cut.
"""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import signal
import sys
from collections.abc import Callable

from aiohttp import web

from llmreplay import arrival, collector, limits
from llmreplay.config import Settings
from llmreplay.errors import ConfigError
from llmreplay.runtime import RUNTIME

log = logging.getLogger("llmreplay")

EXIT_FORCED = 1
"""Exit status after a second signal cut the drain short."""


def build_app(settings: Settings) -> web.Application:
    """The app a server process runs."""
    from llmreplay.app import create_app

    return create_app(settings)


def summary(app: web.Application) -> tuple[str, str]:
    """(mode, source) for the banner: synthetic, replay or record, and what it serves from."""
    rt = app[RUNTIME]
    deck = rt.deck
    if deck is None:
        seed = rt.settings.synthetic.seed
        return "synthetic", "generated replies, " + (f"seed {seed}" if seed is not None else "unseeded")
    mode = {"all": "record", "new_episodes": "replay + record", "none": "replay"}[deck.mode]
    upstream = deck.proxy.shown if deck.proxy else "none"
    return mode, (
        f"cassettes {deck.folder} ({len(deck.names)} loaded, {deck.interactions} interactions); "
        f"recording into {deck.target.name if deck.records else 'nothing'}; upstream {upstream}"
    )


def serve(
    app: web.Application,
    host: str,
    port: int,
    *,
    drain_s: float,
    reuse_port: bool = False,
    on_listening: Callable[[], None] | None = None,
    signals: tuple[signal.Signals, ...] = (signal.SIGTERM, signal.SIGINT),
) -> None:
    """Serve ``app`` until a signal, then drain (see the module docstring). Returns after a clean drain.

    Raises :class:`ConfigError` when the address cannot be bound.
    """
    factory = loop_factory(app[RUNTIME].settings.server.uvloop)
    with asyncio.Runner(loop_factory=factory) as runner:
        runner.run(_serve(app, host, port, drain_s, reuse_port, on_listening, signals))


def loop_factory(use_uvloop: bool) -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when wanted and installed (``pip install llmreplay[fast]``), else asyncio's own."""
    if not use_uvloop:
        return None
    try:
        import uvloop
    except ImportError:
        return None
    return uvloop.new_event_loop


def _in_flight(app: web.Application) -> Callable[[], int]:
    """Answers being sent, from the app's metrics: the collector's full pass waits for none."""
    return app[RUNTIME].metrics.in_flight


async def _serve(
    app: web.Application,
    host: str,
    port: int,
    drain_s: float,
    reuse_port: bool,
    on_listening: Callable[[], None] | None,
    signals: tuple[signal.Signals, ...],
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    received = 0

    def on_signal() -> None:
        nonlocal received
        received += 1
        if received == 1:
            stop.set()
            return
        sys.stderr.write("llmreplay: second signal: exiting now, without draining\n")
        sys.stderr.flush()
        os._exit(EXIT_FORCED)

    for sig in signals:
        loop.add_signal_handler(sig, on_signal)
    srv = app[RUNTIME].settings.server
    runner = web.AppRunner(
        app,
        access_log=None,
        handle_signals=False,
        shutdown_timeout=drain_s,
        keepalive_timeout=srv.keepalive_timeout_s,
        **limits.handler_args(limits.Limits()),
    )
    await runner.setup()
    assert runner.server is not None
    arrival.stamp(runner.server, srv.header_timeout_s, srv.max_connections, app.get(arrival.LANE))
    collector.collect_all()
    tuner = asyncio.ensure_future(collector.watch(lambda: runner.server, in_flight=_in_flight(app)))
    try:
        site = web.TCPSite(runner, host, port, reuse_port=reuse_port or None)
        try:
            await site.start()
        except OSError as exc:
            busy = exc.errno == errno.EADDRINUSE
            hint = " (hint: another process holds it; pick one with --port or PORT)" if busy else ""
            raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}{hint}") from None
        if on_listening is not None:
            on_listening()
        await stop.wait()
        # Closing the listener first: from here a new connection is refused, not queued.
        await site.stop()
        server = runner.server
        busy = len(server.connections) if server is not None else 0
        log.info(
            "stopping: no new connections; %d open connection(s) get up to %g s to finish (signal again to stop now)",
            busy,
            drain_s,
        )
    finally:
        tuner.cancel()
        await runner.cleanup()
    log.info("stopped")
