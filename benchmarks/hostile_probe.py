"""Polls a server's ``/health`` every 20 ms, in a process of its own, and prints the longest wait when stopped.

    python -m benchmarks.hostile_probe --port 8000     # SIGTERM (or Ctrl-C) ends it and prints JSON

Its own process, so that the load a case generates in the caller cannot delay a poll (the GIL): a wait it
reports is the server's. One kept-alive connection; a poll that finds it closed connects again, and the
connect counts in that poll's wait. A poll still waiting when the probe is stopped counts as far as it got.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import socket
import sys
import time
from types import FrameType

POLL = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"


class Stop(Exception):
    """Raised by the SIGTERM handler, so a poll blocked on a stalled server ends too."""


def _stop(signum: int, frame: FrameType | None) -> None:
    raise Stop


def _answer(sock: socket.socket) -> bool:
    """Read one response to :data:`POLL`; False when the connection was closed instead."""
    got = b""
    while b"\r\n\r\n" not in got:
        part = sock.recv(4096)
        if not part:
            return False
        got += part
    head, _, body = got.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        part = sock.recv(4096)
        if not part:
            return False
        body += part
    return True


def poll(port: int, every_s: float, waits: list[float], failed: list[str]) -> None:
    """Poll until :class:`Stop`; each poll's wait in ``waits`` (seconds)."""
    sock: socket.socket | None = None
    due = time.monotonic()
    while True:
        due += every_s
        pause = due - time.monotonic()
        if pause > 0:
            time.sleep(pause)
        else:
            due = time.monotonic()  # a long wait: poll again at once, then every 20 ms from here
        start = time.monotonic()
        try:
            for _ in range(2):  # a kept-alive connection the server closed gets one new one
                if sock is None:
                    sock = socket.create_connection(("127.0.0.1", port), timeout=600)
                try:
                    sock.sendall(POLL)
                    if _answer(sock):
                        break
                except OSError:
                    pass
                sock.close()
                sock = None
            else:
                failed.append("closed twice")
        except Stop:
            waits.append(time.monotonic() - start)
            raise
        except OSError as exc:
            failed.append(type(exc).__name__)
        waits.append(time.monotonic() - start)
        if len(waits) == 1:
            print("ready", flush=True)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.hostile_probe", description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--every-ms", type=float, default=20)
    args = ap.parse_args(argv)
    waits: list[float] = []
    failed: list[str] = []
    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    with contextlib.suppress(Stop):
        poll(args.port, args.every_ms / 1000, waits, failed)
    ordered = sorted(waits)
    p99 = ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))] if ordered else 0.0
    json.dump(
        {"polls": len(waits), "max_ms": max(waits, default=0) * 1000, "p99_ms": p99 * 1000, "failed": failed},
        sys.stdout,
    )
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
