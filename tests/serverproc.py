"""A real ``python -m llmreplay`` in a subprocess, for the shutdown and worker tests.

Readiness and each later step are read from its stderr (the banner, the "stopping" line) rather
than slept for.
"""

from __future__ import annotations

import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

START_TIMEOUT_S = 30.0
CHAT = b'{"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}'
CHAT_STREAM = b'{"model": "gpt-4o", "stream": true, "messages": [{"role": "user", "content": "hi"}]}'


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    proc: subprocess.Popen[bytes]
    port: int
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    seen: list[str] = field(default_factory=list)

    def wait_for(self, pattern: str, timeout: float = START_TIMEOUT_S) -> str:
        """The next stderr line matching ``pattern``; fails after ``timeout`` seconds."""
        end = time.monotonic() + timeout
        while True:
            left = end - time.monotonic()
            try:
                line = self.lines.get(timeout=max(0.01, left))
            except queue.Empty:
                raise AssertionError(f"no line matching {pattern!r} in {timeout} s; got {self.seen}") from None
            if line == "":
                raise AssertionError(f"server exited before {pattern!r}; stderr: {self.seen}")
            self.seen.append(line)
            if re.search(pattern, line):
                return line

    def signal(self, sig: signal.Signals = signal.SIGTERM) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 30.0) -> int:
        return self.proc.wait(timeout=timeout)


def start(*args: str, env: dict[str, str] | None = None, port: int | None = None, quiet: bool = True) -> Server:
    """``python -m llmreplay serve [--quiet] --port P *args``, returned once its banner is printed."""
    port = free_port() if port is None else port
    full_env = {**os.environ, "STREAM_INITIAL_DELAY_MS": "0", "STREAM_DELAY_MS": "0", "STREAM_JITTER_MS": "0"}
    full_env.pop("PROMETHEUS_MULTIPROC_DIR", None)
    full_env.update(env or {})
    argv = [sys.executable, "-m", "llmreplay", "serve", *(["--quiet"] if quiet else []), "--port", str(port), *args]
    return spawn(argv, full_env, port)


def spawn(argv: list[str], env: dict[str, str], port: int, with_stdout: bool = False) -> Server:
    """Run ``argv`` with its stderr (``with_stdout``: and its stdout) read line by line, returned once the
    banner says it is listening."""
    stdout, stderr = (subprocess.PIPE, subprocess.STDOUT) if with_stdout else (subprocess.DEVNULL, subprocess.PIPE)
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=stdout, stderr=stderr, env=env)
    server = Server(proc, port)

    def pump() -> None:
        out = proc.stdout if with_stdout else proc.stderr
        assert out is not None
        for raw in out:
            server.lines.put(raw.decode(errors="replace").rstrip("\n"))
        server.lines.put("")

    threading.Thread(target=pump, daemon=True).start()
    try:
        server.wait_for("Ctrl-C to stop")
    except AssertionError:
        stop(server)
        raise
    return server


def stop(server: Server) -> None:
    """Make sure nothing is left running (a test that failed midway)."""
    if server.proc.poll() is None:
        server.proc.kill()
        server.proc.wait(timeout=10)


def request(
    port: int, method: str, path: str, body: bytes = b"", headers: dict[str, str] | None = None
) -> tuple[int, dict[str, str], bytes]:
    """One request on a fresh connection (so SO_REUSEPORT may pick another worker each time)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        hdrs = {"content-type": "application/json", "connection": "close", **(headers or {})}
        conn.request(method, path, body=body or None, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, data
    finally:
        conn.close()


def open_stream(port: int) -> tuple[socket.socket, Iterator[bytes]]:
    """Start a chat stream by hand; the iterator yields the body's SSE lines as they arrive."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=30)
    head = (
        f"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\ncontent-type: application/json\r\n"
        f"content-length: {len(CHAT_STREAM)}\r\nconnection: close\r\n\r\n"
    ).encode()
    sock.sendall(head + CHAT_STREAM)
    reader = sock.makefile("rb")

    def lines() -> Iterator[bytes]:
        for line in reader:
            yield line.rstrip(b"\r\n")

    return sock, lines()


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False
