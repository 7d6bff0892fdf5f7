"""The hostile cases about connections, headers, settings and files: never-reading /ws clients (12), header bytes
that are not UTF-8 (13), numbers past their bounds (15, 16), a cassette with bad recordings (18), slow clients
(25)."""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from http.client import HTTPConnection
from typing import Any

import msgpack

from benchmarks.harness import pct
from benchmarks.hostile_bench import Bench, Case, Outcome
from benchmarks.hostile_kit import Answer, call, chat, tally, wait_until, ws_connect
from llmreplay.cassettes.model import Interaction, RecordedEvent, RecordedRequest, RecordedResponse
from llmreplay.cassettes.store import new_header

CHAT = "/v1/chat/completions"
GEMINI = "/v1beta/models/gemini-2.0-flash:generateContent"
MESSAGES = {"model": "claude-sonnet-4-5", "max_tokens": 16, "messages": [{"role": "user", "content": "hi"}]}
NINES = "9" * 400


def _load(port: int, count: int, clients: int = 20) -> list[float]:
    """``count`` chat calls from ``clients`` threads on kept-alive connections; each call's seconds."""
    local = threading.local()
    body = chat("hi " * 200)

    def one(_: int) -> float:
        if not hasattr(local, "conn"):
            local.conn = HTTPConnection("127.0.0.1", port, timeout=120)
        return call(port, "POST", CHAT, body, conn=local.conn).seconds

    with ThreadPoolExecutor(clients) as pool:
        return list(pool.map(one, range(count)))


def case12(b: Bench) -> Outcome:
    srv = b.serve()
    count, calls = b.size(50, 1000), b.size(400, 2000)
    alone = _load(srv.port, calls)
    # A small receive buffer, so that the server's side fills soon
    clients = [ws_connect(srv.port, receive_buffer=4096) for _ in range(count)]
    try:
        dropped = lambda: srv.log_bytes().count(b"not reading")  # noqa: E731
        crowded: list[float] = []
        while dropped() < count and len(crowded) < 4 * calls:
            crowded += _load(srv.port, calls)
        wait_until(lambda: dropped() >= count, 30)
    finally:
        for sock in clients:
            sock.close()
    p99 = f"API p99 {pct(alone, 0.99) * 1000:.0f} ms alone, {pct(crowded, 0.99) * 1000:.0f} ms with them"
    return Outcome(
        f"{count:,} /ws clients that never read, {calls:,} chat calls at a time (20 concurrent)",
        f"{dropped()} of {count:,} dropped after {len(crowded):,} calls; {p99}",
    )


BAD_HEADERS: list[tuple[str, bytes]] = [
    ("authorization", b"Bearer \xff"),
    ("x-api-key", b"\xff"),
    ("x-goog-api-key", b"\xff"),
    ("x-llmreplay-seed", b"\xff"),
]


def case13(b: Bench) -> Outcome:
    port = b.serve("--admin-token", "admin-" + os.urandom(8).hex()).port
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", "/v1/models", None),
        ("POST", CHAT, chat()),
        ("POST", "/v1/messages", MESSAGES),
        ("POST", GEMINI, {"contents": [{"parts": [{"text": "hi"}]}]}),
    ]
    got = [call(port, m, p, body, [h]) for h in BAD_HEADERS for m, p, body in calls]
    got.append(call(port, "GET", "/api/config", None, [BAD_HEADERS[0]]))
    return Outcome(
        "`\\xff` in `Authorization`, `x-api-key`, `x-goog-api-key`, `x-llmreplay-seed` on 4 provider paths;"
        " `Authorization` on `/api/config` with an admin token",
        tally(got),
    )


FAULTS = ["disconnect@", "stall@", "malformed@", "stream-error@"]


def case15(b: Bench) -> Outcome:
    port = b.serve().port
    got = [call(port, "POST", CHAT, chat(stream=True), [("x-llmreplay-fault", f + NINES)], timeout=30) for f in FAULTS]
    kinds = {"failures": {"error_rate": 1, "kinds": {"disconnect@" + NINES: 1}}}
    got.append(call(port, "PATCH", "/api/config/global", kinds))
    got.append(call(port, "POST", CHAT, chat(stream=True)))
    return Outcome(
        "`x-llmreplay-fault` `disconnect@`, `stall@`, `malformed@`, `stream-error@` + 400 nines; the first as a"
        " `failures.kinds` entry; then a plain stream",
        tally(got),
    )


def case16(b: Bench) -> Outcome:
    port = b.serve().port
    huge = 10**400
    fields = ["window_ms", "requests", "tokens_per_minute"]
    got = [call(port, "PATCH", "/api/config/global", {"rate_limit": {"enabled": True, f: huge}}) for f in fields]
    got.append(call(port, "POST", CHAT, chat()))
    return Outcome("`rate_limit.window_ms`, `requests`, `tokens_per_minute` = 10^400; then a chat", tally(got))


BAD_FIELDS: list[tuple[str, Any]] = [
    ("events", [["a", "b"]]),
    ("events", [[1]]),
    ("headers", [["x-a\r\nset-cookie", "v"]]),
    ("status", -1),
    ("status", 2**63),
    ("status", 100),
    ("headers_us", 1e18),
]


def _recording(n: int, stream: bool) -> dict[str, Any]:
    body = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"kind %d"}]}' % n
    request = RecordedRequest("POST", CHAT, (), (("content-type", "application/json"),), body)
    if stream:
        events = (RecordedEvent(1000, b"data: {}\n\n"), RecordedEvent(2000, b"data: [DONE]\n\n"))
        response = RecordedResponse(200, (("content-type", "text/event-stream"),), None, events, 500, 2000)
    else:
        response = RecordedResponse(200, (("content-type", "application/json"),), b"{}", None, 500, 900)
    return Interaction(request, response, "openai-chat", "chat", "2026-12-06T00:00:00Z").to_obj()


def case18(b: Bench) -> Outcome:
    objects = [_recording(0, False)]
    for n, (field, value) in enumerate(BAD_FIELDS, start=1):
        obj = _recording(n, field == "events")
        obj["response"][field] = value
        objects.append(obj)
    packer = msgpack.Packer(use_bin_type=True)
    data = packer.pack(new_header("hostile").to_obj()) + b"".join(packer.pack(o) for o in objects)
    (b.cassettes / "recorded.msgpack").write_bytes(data)
    srv = b.serve("--cassettes", str(b.cassettes))
    got = [call(srv.port, "POST", CHAT, chat(f"kind {n}"), timeout=30) for n in range(len(objects))]
    skipped = srv.log_bytes().count(b"skipped")
    return Outcome(
        'a cassette: one good recording and 7 bad (events `[["a","b"]]`, `[[1]]`, a CRLF header name, status'
        " -1, 2^63, 100, `headers_us` 1e18); a call matching each",
        f"{tally(got)}; {skipped} load lines",
    )


class Lifetimes:
    """How long each socket added lived before the server closed it, watched from a thread as they are added
    (connecting many may take seconds: a full listen backlog sends a SYN again after 1 s)."""

    def __init__(self) -> None:
        self.sel = selectors.DefaultSelector()
        self.lived: list[float] = []
        self.stopped = False
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    def add(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sel.register(sock, selectors.EVENT_READ, time.monotonic())

    def _watch(self) -> None:
        while not self.stopped:
            for key, _ in self.sel.select(0.05):
                sock = key.fileobj
                assert isinstance(sock, socket.socket)
                try:
                    gone = sock.recv(4096) == b""
                except BlockingIOError:
                    gone = False
                except OSError:
                    gone = True
                if gone:
                    self.lived.append(time.monotonic() - key.data)
                    self.sel.unregister(sock)

    def wait(self, count: int, timeout: float) -> list[float]:
        wait_until(lambda: len(self.lived) >= count, timeout)
        self.stopped = True
        self.thread.join(5)
        return self.lived


def _trickle(sock: socket.socket, every_s: float, timeout: float) -> tuple[int, float]:
    """Send a header line every ``every_s``; (lines sent, seconds) when the server closed the connection."""
    start = time.monotonic()
    with sock:
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\n")
        lines = 0
        while time.monotonic() - start < timeout:
            try:
                sock.sendall(b"x-slow-%d: y\r\n" % lines)
            except OSError:
                break
            lines += 1
            sock.settimeout(every_s)
            try:
                if sock.recv(4096) == b"":
                    break
            except TimeoutError:
                continue
            except OSError:
                break
        return lines, time.monotonic() - start


def case25(b: Bench) -> Outcome:
    cap = b.size(100, 1000)
    srv = b.serve(env={"LLMREPLAY_MAX_CONNECTIONS": str(cap)})
    watch = Lifetimes()
    with ThreadPoolExecutor(1) as pool:
        # Connected before the heads, so that it is under the cap
        trickled = pool.submit(_trickle, socket.create_connection(("127.0.0.1", srv.port)), 1.0, 60)
        heads = []
        for _ in range(cap + cap // 2):
            sock = socket.create_connection(("127.0.0.1", srv.port))
            with contextlib.suppress(OSError):  # one over the cap may be closed already
                sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\n")
            watch.add(sock)
            heads.append(sock)
        served: list[Answer] = []

        def answered() -> bool:
            served.append(call(srv.port, "GET", "/v1/models", None, [("connection", "close")], timeout=10))
            return served[-1].status == 200

        waited = wait_until(answered, 30, every=0.2)
        lived = watch.wait(len(heads), 30)
        lines, took = trickled.result()
    for s in heads:
        s.close()
    at_once = [t for t in lived if t < 0.5]
    rest = [t for t in lived if t >= 0.5]
    cap_lines = srv.log_bytes().count(b"connection cap")
    return Outcome(
        f"a header line every 1 s; {len(heads):,} half-sent heads over `max_connections` {cap:,}; then a new client",
        f"the trickle closed after {took:.1f} s ({lines} lines); {len(at_once)} heads closed at once, {len(rest)}"
        f" after {min(rest, default=0):.1f}-{max(rest, default=0):.1f} s, {len(heads) - len(lived)} still open;"
        f" a new client answered after {waited:.1f} s; {cap_lines} cap log line(s)",
    )


CASES: dict[int, Case] = {12: case12, 13: case13, 15: case15, 16: case16, 18: case18, 25: case25}
