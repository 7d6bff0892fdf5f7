"""The express lane writes the answers of the calls it sent upstream itself, in a task of its own, keeping the
client's connection until each is out: what is checked is what the client, the journal and the cassette get, the
connection's order and life (keep-alive, pipelining, a client that leaves, a drain), never how fast."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from llmreplay.app import LANE
from llmreplay.cassettes.model import Interaction
from llmreplay.cassettes.recorder import Recorder
from llmreplay.server import BackgroundServer
from tests.conftest import settings
from tests.e2e.common import ZERO, cassette_settings, only_cassette, upstream_server
from tests.reliability.test_lane import BODY, STREAM, _exchange, _post, _read_answers, _same_but_for_time
from tests.reliability.test_lane_upstream import ROAD
from tests.serverproc import free_port, spawn, start, stop

SLOW = {"initial_delay_ms": 0, "delay_ms": 150, "jitter_ms": 0}
"""An upstream whose streams take about a second and a half (the reply's ten or so chunks, 150 ms apart)."""


def _recorder(folder: Path, upstream: str, **server: object) -> BackgroundServer:
    cassettes = cassette_settings(folder, upstream=upstream, record_mode="all")
    return BackgroundServer(settings(server={"quiet": True, **server}, cassettes=cassettes))


def _relayed(srv: BackgroundServer) -> tuple[int, int]:
    """The lane's calls sent upstream and the answers of those it wrote, once the server's loop is past them."""
    httpx.get(f"{srv.url}/health")
    assert srv.app is not None
    lane = srv.app[LANE]
    return lane.forwarded, lane.relayed


def _recorded(folder: Path, n: int) -> list[Interaction]:
    """The cassette's interactions, once it has ``n`` (each is written after its exchange is over)."""
    deadline = time.monotonic() + 20
    while True:
        try:
            got = only_cassette(folder)
        except (AssertionError, FileNotFoundError, ValueError):
            got = []
        if len(got) >= n or time.monotonic() > deadline:
            return got
        time.sleep(0.02)


def test_calls_sent_upstream_are_written_by_the_lane_on_a_connection_kept_alive(tmp_path: Path) -> None:
    with upstream_server(ZERO) as up, _recorder(tmp_path, up.url) as rec:
        with socket.create_connection(("127.0.0.1", rec.port), timeout=30) as sock:
            for body in (STREAM, BODY, STREAM):
                sock.sendall(_post(body))
                ((head, answer),) = _read_answers(sock, 1)
                assert head.startswith(b"HTTP/1.1 200 OK\r\n")
                if body is STREAM:
                    assert b"\r\nTransfer-Encoding: chunked" in head and answer.endswith(b"data: [DONE]\n\n")
                else:
                    assert json.loads(answer)["object"] == "chat.completion"
                assert b"\r\nx-llmreplay-source: upstream\r\n" in head
        assert _relayed(rec) == (3, 3)
        entries = httpx.get(f"{rec.url}/api/requests").json()
        assert [e["stream"] for e in entries] == [True, False, True]
        assert all(e["source"] == "upstream" and e["status"] == 200 for e in entries)
    assert len(_recorded(tmp_path, 3)) == 3


def test_calls_pipelined_behind_a_relayed_stream_wait_for_it_and_are_answered_in_order(tmp_path: Path) -> None:
    with upstream_server(SLOW) as up, _recorder(tmp_path, up.url) as rec:
        answers = _exchange(rec.port, _post(STREAM), _post(BODY), _post(STREAM), _post(BODY))
        assert [h.split(b"\r\n")[0] for h, _ in answers] == [b"HTTP/1.1 200 OK"] * 4
        assert answers[0][1].endswith(b"data: [DONE]\n\n") and answers[2][1].endswith(b"data: [DONE]\n\n")
        assert json.loads(answers[1][1])["object"] == json.loads(answers[3][1])["object"] == "chat.completion"
        assert _relayed(rec) == (4, 4)  # each taken by the lane in turn, once the one before it was out
        entries = httpx.get(f"{rec.url}/api/requests").json()
        assert [e["stream"] for e in entries] == [True, False, True, False]
    assert [it.request.body for it in _recorded(tmp_path, 4)] == [STREAM, BODY, STREAM, BODY]


def test_a_relayed_stream_outlasts_the_keep_alive_timeout_and_the_connection_is_kept_after_it(tmp_path: Path) -> None:
    with upstream_server(SLOW) as up, _recorder(tmp_path, up.url, keepalive_timeout_s=0.3) as rec:
        with socket.create_connection(("127.0.0.1", rec.port), timeout=30) as sock:
            sock.sendall(_post(BODY))
            _read_answers(sock, 1)  # the keep-alive runs from here, and runs out while the stream is written
            sock.sendall(_post(STREAM))
            ((head, answer),) = _read_answers(sock, 1)
            assert head.startswith(b"HTTP/1.1 200") and answer.endswith(b"data: [DONE]\n\n")
            assert answer.count(b"data: ") > 5  # a stream of many events, 150 ms apart: twice the keep-alive
            sock.sendall(_post(BODY))
            ((again, _),) = _read_answers(sock, 1)
            assert again.startswith(b"HTTP/1.1 200")
        assert _relayed(rec) == (3, 3)


def test_a_client_that_leaves_mid_stream_ends_the_upstream_read_as_on_the_road(tmp_path: Path) -> None:
    with upstream_server(SLOW) as up, _recorder(tmp_path, up.url) as rec:
        with socket.create_connection(("127.0.0.1", rec.port), timeout=30) as sock:
            sock.sendall(_post(STREAM))
            got = b""
            while b"data: " not in got:
                got += sock.recv(65536)
        (left,) = _recorded(tmp_path, 1)
        assert left.response.error == "client-disconnect"
        assert left.response.events  # what came before the client left
        assert httpx.get(f"{rec.url}/health").status_code == 200
        assert _relayed(rec) == (1, 1)
        (entry,) = httpx.get(f"{rec.url}/api/requests").json()
        assert entry["status"] == 200 and entry["stream"] is True


def test_a_drain_lets_a_relayed_stream_finish_and_records_it(tmp_path: Path) -> None:
    up = start(env={"STREAM_DELAY_MS": "100", "STREAM_CHUNK_SIZE": "1", "DEFAULT_RESPONSE": "x" * 20})
    port = free_port()
    argv = [sys.executable, "-m", "llmreplay", "record", "--quiet", "--port", str(port)]
    argv += ["--upstream", f"http://127.0.0.1:{up.port}", "--cassettes", str(tmp_path)]
    rec = spawn(argv, dict(os.environ), port)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(_post(STREAM))  # kept alive: the lane's to write
            got = b""
            while b'"content":"x"' not in got:
                got += sock.recv(65536)
            rec.signal(signal.SIGTERM)
            rec.wait_for("stopping: no new connections")
            assert rec.proc.poll() is None  # still draining
            while b"0\r\n\r\n" not in got[-5:]:
                more = sock.recv(65536)
                assert more, "the stream was cut"
                got += more
        assert b"data: [DONE]" in got and got.count(b'"content":"x"') == 20
        assert rec.wait() == 0
    finally:
        stop(rec)
        stop(up)
    (it,) = only_cassette(tmp_path)
    assert it.response.error is None and it.response.events


def test_an_answer_a_stage_holds_back_is_handed_to_aiohttp_and_the_calls_behind_it_wait(tmp_path: Path) -> None:
    held = b"x-llmreplay-fault: stall@1:100\r\n"  # a stage between the upstream and the client
    with upstream_server(ZERO) as up, _recorder(tmp_path, up.url) as rec:
        answers = _exchange(rec.port, _post(STREAM, extra=held), _post(BODY), _post(STREAM, ROAD))
        assert [h.split(b"\r\n")[0] for h, _ in answers] == [b"HTTP/1.1 200 OK"] * 3
        assert answers[0][1].endswith(b"data: [DONE]\n\n") and answers[2][1].endswith(b"data: [DONE]\n\n")
        assert json.loads(answers[1][1])["object"] == "chat.completion"
        assert _relayed(rec) == (1, 0)  # the held one sent by aiohttp's handler, and those behind it read by aiohttp
        entries = httpx.get(f"{rec.url}/api/requests").json()
        assert [e["stream"] for e in entries] == [True, False, True]
        assert entries[0]["duration_ms"] >= 100  # a lower bound: a busy machine only adds to it
    assert len(_recorded(tmp_path, 3)) == 3


def test_an_upstream_that_cannot_be_reached_is_the_same_502_from_the_lane_as_from_the_road(tmp_path: Path) -> None:
    with _recorder(tmp_path, f"http://127.0.0.1:{free_port()}") as rec:
        (lane_head, lane_body), (road_head, road_body) = _exchange(rec.port, _post(BODY), _post(BODY, ROAD))
        assert lane_head.startswith(b"HTTP/1.1 502")
        assert _same_but_for_time(lane_head) == _same_but_for_time(road_head)
        assert lane_body == road_body and b"127.0.0.1" in lane_body
        assert _relayed(rec) == (1, 1)


def test_a_call_asking_to_close_its_connection_gets_what_the_road_gives_and_then_the_close(tmp_path: Path) -> None:
    closing = b"Connection: close\r\n"
    with upstream_server(ZERO) as up, _recorder(tmp_path, up.url) as rec:
        for body in (STREAM, BODY):
            got = []
            for target in ("/v1/chat/completions", ROAD):
                with socket.create_connection(("127.0.0.1", rec.port), timeout=30) as sock:
                    sock.sendall(_post(body, target, closing))
                    ((head, answer),) = _read_answers(sock, 1)
                    assert sock.recv(1) == b""  # closed by the server once its answer was out
                got.append((_same_but_for_time(head), re.sub(rb'"created":\d+', b"", answer)))
            assert got[0] == got[1]
            assert got[0][0].endswith(b"\r\nConnection: close")
        assert _relayed(rec) == (2, 2)
    assert len(_recorded(tmp_path, 4)) == 4


def test_a_plain_answer_leaves_once_its_recording_is_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    append_many = Recorder.append_many

    def slow(self: Recorder, interactions: Sequence[Interaction]) -> None:
        time.sleep(0.2)  # on the recorder's thread: a slow disk
        append_many(self, interactions)

    monkeypatch.setattr(Recorder, "append_many", slow)
    with upstream_server(ZERO) as up, _recorder(tmp_path, up.url) as rec:
        with socket.create_connection(("127.0.0.1", rec.port), timeout=30) as sock:
            for n in (1, 2):
                sock.sendall(_post(BODY))
                ((head, _),) = _read_answers(sock, 1)
                assert head.startswith(b"HTTP/1.1 200")
                assert len(only_cassette(tmp_path)) == n  # as the road's: on disk before the client has its answer
        assert _relayed(rec) == (2, 2)
