"""A lean asyncio SSE load generator: N concurrent streams, each event timestamped on arrival.

Raw HTTP/1.1 over non-blocking sockets (no client library between the socket and the clock): it opens
all N connections first (at most ``--connect-limit`` connecting at once), then sends the N requests spread
evenly over ``--ramp-s``, and timestamps every read that completes at least one SSE event with the time
the kernel received its bytes (Linux's ``SO_TIMESTAMPNS``), not the time this process got round to
reading them: with a thousand streams on one core, a Python client reads some events milliseconds late,
and that lateness would otherwise be blamed on the server. Frames a server writes together arrive
together, so gaps are measured between such reads. A probe task sleeping 5 ms at a time measures this
client's own timer lateness; with kernel stamps it no longer adds to the figures, and ``unstamped_reads``
counts the reads that had none (then the read's own time is used). Prints one JSON object of statistics
(milliseconds) on stdout.

    python -m benchmarks.streams --url http://127.0.0.1:8001/stream?k=20&gap_ms=50 --n 1000 --gap-ms 50
    python -m benchmarks.streams --url http://127.0.0.1:57593/v1/chat/completions \\
        --body '{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"hi {i}"}]}' --n 100

``{i}`` in the URL or the body is replaced by the stream's index. ``--dump FILE`` writes every stream's
arrivals (µs after its request was sent, events completed by that read) as JSON for per-event analysis.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import socket
import struct
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from benchmarks.harness import CLIENT_CORE, ROOT, pinned, raise_fd_limit, summary

_SO_TIMESTAMPNS = getattr(socket, "SO_TIMESTAMPNS", 35 if sys.platform == "linux" else None)
"""Linux's receive timestamps (Python names the constant only on some builds; 35 is its generic value)."""
_TS_SPACE = socket.CMSG_SPACE(16)


def _kernel_stamps(sock: socket.socket) -> bool:
    """Ask the kernel to stamp every received segment with its arrival time (CLOCK_REALTIME)."""
    if _SO_TIMESTAMPNS is None:
        return False
    try:
        sock.setsockopt(socket.SOL_SOCKET, _SO_TIMESTAMPNS, 1)
    except OSError:
        return False
    return True


class Stream:
    """One request on one connection (``Connection: close``): the server closing it ends the stream.

    Read with ``recvmsg`` from a reader callback rather than a Protocol, so that each read carries the
    kernel's arrival time of its bytes: how late this process gets round to reading them (its own load)
    then adds nothing to the figures. Without kernel stamps it falls back to the time of the read.
    """

    def __init__(self, loop: asyncio.AbstractEventLoop, sock: socket.socket, request: bytes, stamped: bool) -> None:
        self.loop = loop
        self.sock = sock
        self.request = request
        self.stamped = stamped
        self.sent = 0.0
        self.status = 0
        self.head = b""
        self.tail = b""
        self.done = False
        self.unstamped = 0
        self.arrivals: list[tuple[float, int]] = []
        self.closed: asyncio.Future[None] = loop.create_future()

    def send(self) -> None:
        self.sent = time.time()
        try:
            self.sock.send(self.request)
        except OSError:
            self._close()
            return
        self.loop.add_reader(self.sock.fileno(), self._readable)

    def abort(self) -> None:
        self._close()

    def _readable(self) -> None:
        try:
            data, anc, _, _ = self.sock.recvmsg(1 << 16, _TS_SPACE if self.stamped else 0)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            self._close()
            return
        if not data:
            self._close()
            return
        now = 0.0
        for level, kind, raw in anc:
            if level == socket.SOL_SOCKET and kind == _SO_TIMESTAMPNS and len(raw) >= 16:
                sec, nsec = struct.unpack_from("qq", raw)
                now = sec + nsec / 1e9
        if not now:
            now = time.time()
            self.unstamped += 1
        self._received(data, now)

    def _received(self, data: bytes, now: float) -> None:
        if not self.status:
            self.head += data
            end = self.head.find(b"\r\n\r\n")
            if end < 0:
                return
            self.status = int(self.head[9:12])
            data, self.head = self.head[end + 4 :], b""
        seen = self.tail + data
        n = seen.count(b"\n\n") - self.tail.count(b"\n\n")
        if not self.done and b"[DONE]" in seen:
            self.done = True
        self.tail = seen[-8:]
        if n:
            self.arrivals.append((now, n))

    def _close(self) -> None:
        if self.sock.fileno() >= 0:
            self.loop.remove_reader(self.sock.fileno())
            self.sock.close()
        if not self.closed.done():
            self.closed.set_result(None)


def _request(url: str, body: str | None, i: int) -> tuple[str, int, bytes]:
    parts = urlsplit(url.replace("{i}", str(i)))
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    if body is None:
        raw = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nAccept: text/event-stream\r\nConnection: close\r\n\r\n"
        return host, port, raw.encode()
    data = body.replace("{i}", str(i)).encode()
    head = (
        f"POST {path} HTTP/1.1\r\nHost: {host}:{port}\r\nContent-Type: application/json\r\n"
        f"Accept: text/event-stream\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n"
    )
    return host, port, head.encode() + data


async def _lateness(stop: asyncio.Event, out: list[float]) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        due = loop.time() + 0.005
        await asyncio.sleep(0.005)
        out.append((loop.time() - due) * 1000)


async def run(args: argparse.Namespace) -> dict[str, object]:
    loop = asyncio.get_running_loop()
    lateness: list[float] = []
    stop = asyncio.Event()
    probe = asyncio.create_task(_lateness(stop, lateness))
    sem = asyncio.Semaphore(args.connect_limit)
    errors: Counter[str] = Counter()

    async def connect(i: int) -> Stream | None:
        host, port, raw = _request(args.url, args.body, i)
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setblocking(False)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        stamped = _kernel_stamps(sock)
        async with sem:
            try:
                await asyncio.wait_for(loop.sock_connect(sock, (host, port)), args.timeout)
            except (OSError, TimeoutError) as exc:
                sock.close()
                errors[type(exc).__name__] += 1
                return None
        return Stream(loop, sock, raw, stamped)

    start = time.perf_counter()
    connect_s = 0.0
    protos: list[Stream | None] = []
    for _ in range(args.rounds):
        t_connect = time.perf_counter()
        batch = await asyncio.gather(*(connect(i) for i in range(args.n)))
        connect_s = max(connect_s, time.perf_counter() - t_connect)
        t0 = loop.time() + 0.05
        for i, p in enumerate(batch):
            if p is not None:
                loop.call_at(t0 + args.ramp_s * i / max(1, args.n), p.send)
        pending = [p for p in batch if p is not None]
        try:
            await asyncio.wait_for(asyncio.gather(*(p.closed for p in pending)), args.timeout)
        except TimeoutError:
            errors["timeout"] += sum(1 for p in pending if not p.closed.done())
            for p in pending:
                p.abort()
        protos += batch
    live = [p for p in protos if p is not None]
    stop.set()
    await probe
    wall = time.perf_counter() - start

    gap_err: list[float] = []
    ttft_err: list[float] = []
    ttft: list[float] = []
    ttlb: list[float] = []
    spans: list[tuple[float, int]] = []
    for p in live:
        times = [t for t, _ in p.arrivals]
        if not times:
            continue
        ttft.append((times[0] - p.sent) * 1000)
        ttlb.append((times[-1] - p.sent) * 1000)
        ttft_err.append(abs((times[0] - p.sent) * 1000 - args.ttft_ms))
        gap_err += [abs((b - a) * 1000 - args.gap_ms) for a, b in itertools.pairwise(times)]
        spans += [(times[0], 1), (times[-1], -1)]
    held = peak = 0
    for _, d in sorted(spans):
        held += d
        peak = max(peak, held)

    if args.dump:
        dump = [[round((t - p.sent) * 1e6) for t, n in p.arrivals for _ in range(n)] for p in protos if p is not None]
        Path(args.dump).write_text(json.dumps(dump))
    return {
        "streams": args.n,
        "connected": len(live),
        "completed": sum(1 for p in live if p.done and p.status == 200),
        "statuses": dict(Counter(str(p.status) for p in live)),
        "errors": dict(errors),
        "peak_held": peak,
        "connect_s": connect_s,
        "wall_s": wall,
        "gap_error_ms": summary(gap_err),
        "ttft_error_ms": summary(ttft_err),
        "ttft_ms": summary(ttft),
        "ttlb_ms": summary(ttlb),
        "client_lateness_ms": summary(lateness),
        "unstamped_reads": sum(p.unstamped for p in live),
    }


def run_client(
    url: str,
    n: int,
    *,
    body: str | None = None,
    gap_ms: float = 50.0,
    ttft_ms: float = 0.0,
    ramp_s: float = 0.5,
    rounds: int = 1,
    timeout: float = 120.0,
    dump: str | None = None,
    connect_limit: int = 100,
) -> dict[str, Any]:
    """Run this client in its own process on the load-generator core; returns its statistics."""
    cmd = [sys.executable, "-m", "benchmarks.streams", "--url", url, "--n", str(n), "--gap-ms", str(gap_ms)]
    cmd += ["--ttft-ms", str(ttft_ms), "--ramp-s", str(ramp_s), "--rounds", str(rounds), "--timeout", str(timeout)]
    cmd += ["--connect-limit", str(connect_limit)]
    if body is not None:
        cmd += ["--body", body]
    if dump:
        cmd += ["--dump", dump]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH", "")]))}
    out = subprocess.run(
        pinned(cmd, CLIENT_CORE),
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
        timeout=rounds * (timeout + 60),
        preexec_fn=raise_fd_limit,
    )
    if out.returncode != 0:
        raise RuntimeError(f"stream client failed ({out.returncode}): {out.stderr[-2000:]}")
    return json.loads(out.stdout)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--url", required=True)
    ap.add_argument("--n", type=int, default=100, help="concurrent streams")
    ap.add_argument("--body", help="POST this JSON ({i} = stream index); GET without it")
    ap.add_argument("--gap-ms", type=float, default=50.0, help="configured gap between events")
    ap.add_argument("--ttft-ms", type=float, default=0.0, help="configured time to first event")
    ap.add_argument("--ramp-s", type=float, default=0.5, help="spread the N requests over this many seconds")
    ap.add_argument("--connect-limit", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=1, help="run the N streams this many times, one after another")
    ap.add_argument("--timeout", type=float, default=120.0, help="per round")
    ap.add_argument("--dump", help="write per-stream event arrivals (µs) to this JSON file")
    args = ap.parse_args(argv)
    raise_fd_limit()
    try:
        import uvloop
    except ImportError:
        result = asyncio.run(run(args))
    else:
        result = uvloop.run(run(args))
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
