"""The express lane (llmreplay/lane.py) answers what it takes exactly as aiohttp's road does, in order, on a
connection that stays as aiohttp keeps it; what it cannot write at once reaches aiohttp with the work done.

The road is asked for comparison by a query string, which the lane never takes (the answer of a chat call does
not depend on its query). What is checked is bytes, order and which connections stay open, never how fast."""

from __future__ import annotations

import asyncio
import json
import re
import socket
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from llmreplay import arrival
from llmreplay.app import LANE
from llmreplay.server import BackgroundServer
from llmreplay.sources.synthetic import SyntheticSource
from llmreplay.state.responses import ResponseStore
from tests.conftest import settings
from tests.e2e.common import ZERO, cassette_settings, recorder, upstream_server

BODY = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello!"}]}).encode()
STREAM = json.dumps({"model": "gpt-4o", "stream": True, "messages": [{"role": "user", "content": "Hi"}]}).encode()
CHAT_TURN = {"role": "user", "content": "Hey"}
NO_DELAY = {"initial_delay_ms": 0, "delay_ms": 0, "jitter_ms": 0}


def _post(body: bytes, target: str = "/v1/chat/completions", extra: bytes = b"") -> bytes:
    return (
        f"POST {target} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n".encode()
        + extra
        + b"\r\n"
        + body
    )


def _read_answers(sock: socket.socket, n: int) -> list[tuple[bytes, bytes]]:
    """``n`` answers as (head, body), read off ``sock`` in the order they came; a chunked body is unchunked."""
    buf = b""
    out: list[tuple[bytes, bytes]] = []
    while len(out) < n:
        while b"\r\n\r\n" not in buf:
            got = sock.recv(65536)
            assert got, f"connection closed after {len(out)} answers"
            buf += got
        head, _, buf = buf.partition(b"\r\n\r\n")
        m = re.search(rb"(?i)\r\ncontent-length: (\d+)", head)
        if m is not None:
            size = int(m.group(1))
            while len(buf) < size:
                buf += sock.recv(65536)
            out.append((head, buf[:size]))
            buf = buf[size:]
            continue
        body = b""
        while True:  # chunked
            while b"\r\n" not in buf:
                buf += sock.recv(65536)
            line, _, buf = buf.partition(b"\r\n")
            size = int(line, 16)
            while len(buf) < size + 2:
                buf += sock.recv(65536)
            body, buf = body + buf[:size], buf[size + 2 :]
            if size == 0:
                break
        out.append((head, body))
    return out


def _exchange(port: int, *requests: bytes) -> list[tuple[bytes, bytes]]:
    """Send ``requests`` pipelined, in one write, on one connection, and read their answers."""
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"".join(requests))
        return _read_answers(sock, len(requests))


def _same_but_for_time(head: bytes) -> bytes:
    """The head without what differs between two answers of one seeded exchange: the date and journal id."""
    head = re.sub(rb"Date: [^\r]+", b"Date: -", head)
    return re.sub(rb"x-llmreplay-request-id: [^\r]+", b"x-llmreplay-request-id: -", head)


@pytest.fixture
def seeded(make_server: Callable[..., BackgroundServer]) -> BackgroundServer:
    return make_server(server={"quiet": True}, latency=NO_DELAY, synthetic={"seed": 7})


def _lane_answered(srv: BackgroundServer) -> int:
    assert srv.app is not None
    return srv.app[LANE].answered


def _counted(srv: BackgroundServer) -> int:
    """The lane's count once the server's loop is past every answer already read: the count goes up just after
    the answer is written, and a client on another thread may read the answer first."""
    httpx.get(f"{srv.url}/health")
    return _lane_answered(srv)


def test_the_lane_writes_the_bytes_the_road_writes(seeded: BackgroundServer) -> None:
    for body in (BODY, b'{"model": "claude-x", "messages": [{"role": "user", "content": "caf\\u00e9 \\"q\\""}]}'):
        (lane_head, lane_body), (road_head, road_body) = _exchange(
            seeded.port, _post(body), _post(body, "/v1/chat/completions?road=%31")
        )
        assert _same_but_for_time(lane_head) == _same_but_for_time(road_head)
        assert b"content-type: application/json" in lane_head
        # The same seed draws the same reply and ids; only `created` may tick over between the two.
        assert re.sub(rb'"created":\d+', b"", lane_body) == re.sub(rb'"created":\d+', b"", road_body)
    for path, body in (
        ("/v1/messages", json.dumps({"model": "claude-sonnet-4", "max_tokens": 50, "messages": [CHAT_TURN]}).encode()),
        ("/v1/embeddings", b'{"model": "text-embedding-3-small", "input": "Hi"}'),
        ("/v1/chat/completions", b'{"model": "gpt-4o", "messages": "not a list"}'),  # the provider's own 400
    ):
        (lane_head, lane_body), (road_head, road_body) = _exchange(
            seeded.port, _post(body, path), _post(body, path + "?road=%31")
        )
        assert _same_but_for_time(lane_head) == _same_but_for_time(road_head)
        assert re.sub(rb'"created(_at)?":\d+', b"", lane_body) == re.sub(rb'"created(_at)?":\d+', b"", road_body)
    assert _lane_answered(seeded) == 5  # the road answered the other five (what they were compared with)


GEMINI = json.dumps({"contents": [{"role": "user", "parts": [{"text": "Hello!"}]}]}).encode()
VERTEX = "/v1/projects/p-1/locations/us-central1/publishers/google/models/gemini-2.0-flash:generateContent"


def test_a_path_with_parameters_is_taken_as_aiohttp_s_router_takes_it(seeded: BackgroundServer) -> None:
    # Gemini's and Vertex's paths name the model: the lane finds their routes and parameters as aiohttp does.
    for path in ("/v1beta/models/gemini-2.0-flash:generateContent", VERTEX):
        (lane_head, lane_body), (road_head, road_body) = _exchange(
            seeded.port, _post(GEMINI, path), _post(GEMINI, path + "?road=%31")
        )
        assert _same_but_for_time(lane_head) == _same_but_for_time(road_head)
        assert lane_body == road_body and json.loads(lane_body)["modelVersion"] == "gemini-2.0-flash"
    assert _lane_answered(seeded) == 2
    # Left to aiohttp, which decodes and normalises a path first: an escape, a dot segment; and a stream.
    for path in (
        "/v1beta/models/gemini%2D2.0-flash:generateContent",
        VERTEX.replace("/p-1/", "/./"),
        "/v1beta/models/gemini-2.0-flash:streamGenerateContent",
    ):
        ((head, _),) = _exchange(seeded.port, _post(GEMINI, path))
        assert head.startswith((b"HTTP/1.1 200", b"HTTP/1.1 404"))
    assert _lane_answered(seeded) == 2
    entries = httpx.get(f"{seeded.url}/api/requests").json()
    assert {e["model"] for e in entries if e["status"] == 200} == {"gemini-2.0-flash"}


AZURE = "/openai/deployments/gpt-4o/chat/completions"


def test_a_plain_query_is_taken_and_one_that_needs_decoding_is_left_to_aiohttp(seeded: BackgroundServer) -> None:
    # Azure's SDK sends ?api-version with every call. Plain name=value pairs read the same decoded or not.
    for query in ("?api-version=2024-10-21", ""):  # and without it, Azure's own 404
        (lane_head, lane_body), (road_head, road_body) = _exchange(
            seeded.port, _post(BODY, AZURE + query), _post(BODY, AZURE + (query or "?") + "&road=%31")
        )
        assert _same_but_for_time(lane_head) == _same_but_for_time(road_head)
        assert re.sub(rb'"created":\d+', b"", lane_body) == re.sub(rb'"created":\d+', b"", road_body)
    assert _lane_answered(seeded) == 2
    assert lane_head.startswith(b"HTTP/1.1 404")
    for query in (
        "?api-version=2024%2D10%2D21",  # an escape
        "?api-version=2024-10-21&api-version=2024-06-01",  # a name twice
        "?api-version=2024-10-21&a+b=1",  # "+" is a space to aiohttp
        "?api-version=2024-10-21&flag",  # a name without a value
        "?api-version=2024-10-21;x=1",
    ):
        ((head, _),) = _exchange(seeded.port, _post(BODY, AZURE + query))
        assert head.startswith(b"HTTP/1.1 200")
    assert _lane_answered(seeded) == 2
    entries = httpx.get(f"{seeded.url}/api/requests").json()
    sent = [httpx.get(f"{seeded.url}/api/requests/{e['id']}").json()["request"]["query"] for e in entries]
    # The lane's reading of the query (the first call) is aiohttp's (the escaped one, fifth).
    assert sent[0] == sent[4] == {"api-version": "2024-10-21"}, sent


def test_a_body_written_after_its_head_is_waited_for(seeded: BackgroundServer, monkeypatch: pytest.MonkeyPatch) -> None:
    # An HTTP client may write a request's head and body apart (httpx does): the lane holds the head for the next
    # read, and past HOLD_S (made long here, so that no pause of a busy machine outlasts it) aiohttp has the
    # request and reads the body when it comes. The late body comes 2 s after HOLD_S: were the server's loop
    # held past both (a full collection of a big test process's heap takes over a second), it would read the
    # body before it ran the hold's timer, and the lane would take the request.
    monkeypatch.setattr(arrival, "HOLD_S", 1.0)
    head, body = _post(BODY).split(b"\r\n\r\n", 1)
    with socket.create_connection(("127.0.0.1", seeded.port), timeout=30) as sock:
        sock.sendall(_post(BODY))
        _read_answers(sock, 1)  # aiohttp's side of the connection has started: the lane is open from here
        before = _counted(seeded)
        for pause in (0.001, 0.001, 3.0):
            sock.sendall(head + b"\r\n\r\n")
            time.sleep(pause)
            sock.sendall(body)
            ((answer_head, answer_body),) = _read_answers(sock, 1)
            assert answer_head.startswith(b"HTTP/1.1 200") and json.loads(answer_body)["object"] == "chat.completion"
    assert _counted(seeded) == before + 2
    assert len(httpx.get(f"{seeded.url}/api/requests").json()) == 4


def test_a_request_held_for_its_body_keeps_its_connection_open_past_the_keep_alive(
    make_server: Callable[..., BackgroundServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    # Its head came while the connection was idle and its body after the keep-alive ran out: the connection is not
    # idle, though aiohttp has no request on it yet, and the request is answered.
    srv = make_server(server={"quiet": True, "keepalive_timeout_s": 1.0}, latency=NO_DELAY, synthetic={"seed": 7})
    monkeypatch.setattr(arrival, "HOLD_S", 3.0)
    head, body = _post(BODY).split(b"\r\n\r\n", 1)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as sock:
        sock.sendall(_post(BODY))
        _read_answers(sock, 1)  # the keep-alive runs from here
        before = _counted(srv)
        time.sleep(0.2)
        sock.sendall(head + b"\r\n\r\n")
        time.sleep(1.5)
        sock.sendall(body)
        ((answer_head, _),) = _read_answers(sock, 1)
    assert answer_head.startswith(b"HTTP/1.1 200")
    assert _counted(srv) == before + 1


def test_pipelined_calls_are_answered_in_order_whatever_answers_them(seeded: BackgroundServer) -> None:
    asks = [_post(BODY), _post(STREAM), _post(BODY), _post(BODY, "/v1/chat/completions?q=1"), _post(BODY)]
    answers = _exchange(seeded.port, *asks)
    assert _lane_answered(seeded) == 1  # from the stream on, in the same read, every call goes to aiohttp
    assert [h.split(b"\r\n")[0] for h, _ in answers] == [b"HTTP/1.1 200 OK"] * 5
    assert answers[1][1].endswith(b"data: [DONE]\n\n")
    for i in (0, 2, 3, 4):
        assert json.loads(answers[i][1])["object"] == "chat.completion"
    entries = httpx.get(f"{seeded.url}/api/requests").json()
    assert len(entries) == 5
    assert sorted(e["stream"] for e in entries) == [False, False, False, False, True]


def test_an_answer_that_is_not_due_at_once_is_sent_by_the_road_when_due(
    make_server: Callable[..., BackgroundServer],
) -> None:
    srv = make_server(server={"quiet": True}, latency={"initial_delay_ms": 150, "delay_ms": 0, "jitter_ms": 0})
    (head, body), (head2, _) = _exchange(srv.port, _post(BODY), _post(BODY))
    assert head.startswith(b"HTTP/1.1 200") and head2.startswith(b"HTTP/1.1 200")
    assert json.loads(body)["choices"][0]["message"]["content"]
    entries = httpx.get(f"{srv.url}/api/requests").json()
    assert len(entries) == 2
    assert all(e["ttfb_ms"] >= 150 for e in entries)  # a lower bound: a busy machine only adds to it


def test_a_road_that_has_to_wait_goes_on_in_the_handler(
    make_server: Callable[..., BackgroundServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    serve = ResponseStore.serve

    async def waits(self: ResponseStore, ex: Any) -> Any:
        await asyncio.sleep(0.01)  # a future the lane cannot wait on: the handler's task does
        return await serve(self, ex)

    monkeypatch.setattr(ResponseStore, "serve", waits)
    srv = make_server(server={"quiet": True}, latency=NO_DELAY)
    answers = _exchange(srv.port, _post(BODY), _post(BODY))
    assert all(json.loads(b)["object"] == "chat.completion" for _, b in answers)
    assert len(httpx.get(f"{srv.url}/api/requests").json()) == 2  # each prepared once, not again by the road


def test_an_unexpected_error_is_answered_as_the_road_answers_it(
    make_server: Callable[..., BackgroundServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("a bug")

    monkeypatch.setattr(SyntheticSource, "reply", broken)
    srv = make_server(server={"quiet": True}, latency=NO_DELAY)
    ((head, body),) = _exchange(srv.port, _post(BODY))
    assert head.startswith(b"HTTP/1.1 500")
    assert json.loads(body)["error"]["type"] == "server_error"
    assert b"Traceback" not in body and b"a bug" not in body


@pytest.fixture
def short_deadlines(make_server: Callable[..., BackgroundServer]) -> Iterator[BackgroundServer]:
    yield make_server(server={"quiet": True, "header_timeout_s": 0.3, "keepalive_timeout_s": 1.5}, latency=NO_DELAY)


def test_a_connection_the_lane_answers_is_kept_alive_past_the_head_deadline(short_deadlines: BackgroundServer) -> None:
    with socket.create_connection(("127.0.0.1", short_deadlines.port), timeout=30) as sock:
        for _ in range(3):
            sock.sendall(_post(BODY))
            ((head, _),) = _read_answers(sock, 1)
            assert head.startswith(b"HTTP/1.1 200")
            time.sleep(0.6)  # twice the head deadline, well inside the keep-alive timeout


def test_an_idle_connection_the_lane_answered_is_closed_after_the_keep_alive_timeout(
    short_deadlines: BackgroundServer,
) -> None:
    with socket.create_connection(("127.0.0.1", short_deadlines.port), timeout=30) as sock:
        sock.sendall(_post(BODY))
        _read_answers(sock, 1)
        sock.settimeout(20)
        assert sock.recv(1) == b""  # closed by the server (a hang would time the test out)


def test_the_access_log_has_a_line_for_each_call_the_lane_answers(
    make_server: Callable[..., BackgroundServer], caplog: pytest.LogCaptureFixture
) -> None:
    srv = make_server(server={"quiet": False}, latency=NO_DELAY)
    with caplog.at_level("INFO", logger="llmreplay.access"):
        _exchange(srv.port, _post(BODY), _post(BODY))
        deadline = time.monotonic() + 10  # a line is logged after its answer is written, as the road logs it
        while len([r for r in caplog.records if r.name == "llmreplay.access"]) < 2 and time.monotonic() < deadline:
            time.sleep(0.01)
    lines = [r for r in caplog.records if r.name == "llmreplay.access"]
    assert [r.getMessage().split()[:3] for r in lines] == [["POST", "/v1/chat/completions", "200"]] * 2
    assert all(r.__dict__["source"] == "synthetic" for r in lines)


def test_a_replayed_answer_is_written_as_the_road_writes_it_the_provider_s_date_and_server_kept(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with upstream_server(ZERO) as up, recorder(tmp_path, up.url) as rec:
        _exchange(rec.port, _post(BODY))
    cassettes = cassette_settings(tmp_path, record_mode="none", on_miss="error", speed=0)
    with BackgroundServer(settings(server={"quiet": False}, latency=ZERO, cassettes=cassettes)) as rp:
        with caplog.at_level("INFO", logger="llmreplay.access"):
            (lane_head, lane_body), (road_head, road_body) = _exchange(
                rp.port, _post(BODY), _post(BODY, "/v1/chat/completions?road=%31")
            )
            deadline = time.monotonic() + 10  # a line is logged after its answer is written, as the road logs it
            while len([r for r in caplog.records if r.name == "llmreplay.access"]) < 2 and time.monotonic() < deadline:
                time.sleep(0.01)
        assert _lane_answered(rp) == 1
    assert lane_body == road_body  # the recording, byte for byte
    assert _same_but_for_time(lane_head) == _same_but_for_time(road_head)
    assert lane_head.lower().count(b"\r\ndate: ") == 1 and b"x-llmreplay-cassette: recorded#0" in lane_head
    lines = [r.__dict__ for r in caplog.records if r.name == "llmreplay.access"]
    assert [(r["source"], r["match"], r["cassette"]) for r in lines] == [
        ("cassette:recorded#0", "hit", "recorded#0")
    ] * 2
