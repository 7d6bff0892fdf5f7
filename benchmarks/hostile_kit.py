"""What the hostile cases share: server processes with their log in a file, their memory, the ``/health`` probe,
plain HTTP with any bytes in it, a ``/ws`` listener, and the keys the key cases look for."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import os
import secrets
import signal
import socket
import socketserver
import string
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from typing import Any

from benchmarks.harness import CLIENT_CORE, ROOT, SERVER_CORE, free_port, pinned, raise_fd_limit, wait_port

HeaderValue = str | bytes
PREFIX = 20
"""How much of a key is looked for: its first 20 characters (a window that no scrub placeholder holds)."""


def _token(n: int) -> str:
    return "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(n))


# Built at run time: nothing shaped like a real key is tracked in the repository.
OPENAI_KEY = "sk-" + "proj-" + _token(40)
GOOGLE_KEY = "AI" + "za" + "Sy" + _token(33)


def status_kib(pid: int, field: str) -> int:
    """``VmRSS`` or ``VmHWM`` (the peak) of ``pid`` from /proc, in KiB; 0 once it is gone."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


@dataclasses.dataclass
class Proc:
    """A server subprocess on its own port; its stdout and stderr go to ``log``."""

    popen: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss(self) -> int:
        return status_kib(self.popen.pid, "VmRSS")

    def peak(self) -> int:
        return status_kib(self.popen.pid, "VmHWM")

    def log_bytes(self) -> bytes:
        return self.log.read_bytes() if self.log.exists() else b""

    def stop(self) -> None:
        if self.popen.poll() is None:
            self.popen.terminate()
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                self.popen.kill()
                self.popen.wait(5)


def env_for(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1", **(extra or {})}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env


def spawn(cmd: Sequence[str], log: Path, env: dict[str, str] | None = None, core: str = SERVER_CORE) -> Proc:
    """Start ``cmd`` (its ``--port`` the last number in it after ``--port``) and wait until it listens."""
    port = int(cmd[list(cmd).index("--port") + 1])
    with log.open("ab") as out:
        popen = subprocess.Popen(
            pinned(cmd, core),
            env=env_for(env),
            cwd=log.parent,
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=raise_fd_limit,
        )
    proc = Proc(popen, port, log)
    try:
        wait_port(port, popen)
    except RuntimeError as exc:
        proc.stop()
        raise RuntimeError(f"{exc}: {' '.join(cmd)}\n{proc.log_bytes()[-2000:].decode(errors='replace')}") from None
    return proc


def llmreplay(command: str, port: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "llmreplay", command, "--port", str(port), *extra]


def new_port() -> int:
    return free_port()


class Probe:
    """``benchmarks.hostile_probe`` polling a port every 20 ms until :meth:`stop`."""

    def __init__(self, port: int) -> None:
        cmd = [sys.executable, "-m", "benchmarks.hostile_probe", "--port", str(port)]
        self.popen = subprocess.Popen(pinned(cmd, CLIENT_CORE), env=env_for(), cwd=ROOT, stdout=subprocess.PIPE)
        assert self.popen.stdout is not None
        self.popen.stdout.readline()  # its first poll answered: the case may start

    def stop(self) -> dict[str, Any]:
        self.popen.send_signal(signal.SIGTERM)
        out, _ = self.popen.communicate(timeout=120)
        return dict(json.loads(out or b"{}"))


# ---- plain HTTP ---------------------------------------------------------------------------------------


@dataclasses.dataclass
class Answer:
    status: int
    body: bytes
    seconds: float
    broken: str = ""
    """Why the body ended early (the server closed the connection), or nothing."""
    size: int = 0
    """Bytes of the body (kept in ``body`` unless the call was told not to)."""

    def brief(self) -> str:
        """``400 invalid_request_error``: the status and, for an error, the envelope's type or status."""
        if self.broken:
            return f"{self.status or 'no answer'} ({self.broken})"
        kind = ""
        with contextlib.suppress(ValueError, KeyError, AttributeError, TypeError):
            err = json.loads(self.body)["error"]
            kind = err.get("type") or err.get("status") or ""
        return f"{self.status} {kind}".strip()

    def json(self) -> Any:
        return json.loads(self.body)


def call(
    port: int,
    method: str,
    path: str,
    body: bytes | dict[str, Any] | None = None,
    headers: Iterable[tuple[str, HeaderValue]] = (),
    timeout: float = 300,
    conn: HTTPConnection | None = None,
    keep: bool = True,
) -> Answer:
    """One request with exactly these header bytes (values may be bytes that are not UTF-8)."""
    data = json.dumps(body).encode() if isinstance(body, dict) else body
    own = conn is None
    c = conn or HTTPConnection("127.0.0.1", port, timeout=timeout)
    start = time.monotonic()
    try:
        c.putrequest(method, path, skip_accept_encoding=True)
        given = list(headers)
        if data is not None and not any(name.lower() == "content-type" for name, _ in given):
            c.putheader("content-type", "application/json")
        if data is not None:
            c.putheader("content-length", str(len(data)))
        for name, value in given:
            c.putheader(name, value)
        c.endheaders(data)
        resp = c.getresponse()
        try:
            if keep:
                got = resp.read()
                return Answer(resp.status, got, time.monotonic() - start, size=len(got))
            size = 0
            while part := resp.read(1 << 20):
                size += len(part)
            return Answer(resp.status, b"", time.monotonic() - start, size=size)
        except (HTTPException, OSError) as exc:
            return Answer(resp.status, b"", time.monotonic() - start, type(exc).__name__)
    except (HTTPException, OSError) as exc:
        return Answer(0, b"", time.monotonic() - start, type(exc).__name__)
    finally:
        if own:
            c.close()


def tally(answers: Iterable[Answer]) -> str:
    """The answers in order, repeats counted: ``2 × 200, 400 invalid_request_error``."""
    runs: list[list[Any]] = []
    for a in answers:
        if runs and runs[-1][1] == a.brief():
            runs[-1][0] += 1
        else:
            runs.append([1, a.brief()])
    return ", ".join(f"{n:,} × {k}" if n > 1 else k for n, k in runs)


def chat(content: str = "hi", **extra: Any) -> dict[str, Any]:
    return {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": content}], **extra}


def tool_chat(schema: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """A chat that must call one tool whose parameters are ``schema``."""
    tool = {"type": "function", "function": {"name": "f", "parameters": schema}}
    return chat(tools=[tool], tool_choice="required", **extra)


def one_string(schema: dict[str, Any]) -> dict[str, Any]:
    """An object schema with one required string property ``a``."""
    return {"type": "object", "properties": {"a": {"type": "string", **schema}}, "required": ["a"]}


# ---- the /ws feed and the key cases --------------------------------------------------------------------


def ws_connect(port: int, receive_buffer: int = 0) -> socket.socket:
    """A /ws connection, upgraded, offering no compression (so each message's text is in the bytes as sent)."""
    sock = socket.socket()
    if receive_buffer:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, receive_buffer)
    sock.connect(("127.0.0.1", port))
    lines = [
        "GET /ws HTTP/1.1",
        "Host: 127.0.0.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Key: " + base64.b64encode(os.urandom(16)).decode(),
    ]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    answer = b""
    while not answer.endswith(b"\r\n\r\n"):
        answer += sock.recv(1)  # one byte at a time: nothing of the first message is taken with the head
    return sock


class WsFeed:
    """A /ws client that reads everything the server sends, as raw bytes."""

    def __init__(self, port: int) -> None:
        self.sock = ws_connect(port)
        self.data = bytearray()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        with contextlib.suppress(OSError):
            while part := self.sock.recv(65536):
                self.data += part

    def close(self) -> bytes:
        time.sleep(0.3)  # the feed sends what it has every tick
        self.sock.close()
        self.thread.join(5)
        return bytes(self.data)


def found_in(forms: Sequence[bytes], data: bytes) -> bool:
    return any(f[:PREFIX] in data for f in forms)


def cassette_bytes(folder: Path) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


class _Garbage(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        self.request.recv(65536)
        self.request.sendall(b"garbage garbage\r\n\r\n")


@contextlib.contextmanager
def garbage_upstream() -> Iterator[str]:
    """An upstream that answers every request with bytes that are no HTTP (case 19)."""
    with socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Garbage) as srv:
        threading.Thread(target=srv.serve_forever, daemon=True).start()
        try:
            yield f"http://127.0.0.1:{srv.server_address[1]}"
        finally:
            srv.shutdown()


def wait_until(check: Any, timeout: float, every: float = 0.05) -> float:
    """Seconds until ``check()`` was true (``timeout`` if never)."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(every)
    return timeout
