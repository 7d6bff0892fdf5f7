"""Many requests pipelined in one write, more than aiohttp's parser hands on at once (32): aiohttp parses what it
held back whenever the express lane reads a body, so the lane is re-entered while it takes a request. Every
request is answered, once, in the order it came, whoever answers it."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from pathlib import Path

from llmreplay.server import BackgroundServer
from tests.e2e.common import ZERO, upstream_server
from tests.reliability.test_lane import NO_DELAY, _post, _read_answers
from tests.reliability.test_lane_relay import _recorder, _relayed

MODELS = ("gpt-4o", "gpt-4o-mini", "gpt-4.1")


def _asked(i: int, stream: bool = False) -> bytes:
    ask = {"model": MODELS[i % 3], "messages": [{"role": "user", "content": f"Hello {i}"}], "stream": stream}
    return json.dumps(ask).encode()


def _models(answers: list[tuple[bytes, bytes]]) -> list[str]:
    out = []
    for _, body in answers:
        first = body.split(b"data: ", 1)[1].split(b"\n", 1)[0] if body.startswith(b"data: ") else body
        out.append(json.loads(first)["model"])
    return out


def test_three_hundred_calls_pipelined_in_one_write_are_answered_in_order(
    make_server: Callable[..., BackgroundServer],
) -> None:
    srv = make_server(server={"quiet": True}, latency=NO_DELAY)
    with socket.create_connection(("127.0.0.1", srv.port), timeout=30) as sock:
        sock.sendall(b"".join(_post(_asked(i)) for i in range(300)))
        answers = _read_answers(sock, 300)
    assert all(h.startswith(b"HTTP/1.1 200") for h, _ in answers)
    assert _models(answers) == [MODELS[i % 3] for i in range(300)]


def test_eighty_calls_sent_upstream_pipelined_in_one_write_are_answered_in_order(tmp_path: Path) -> None:
    with upstream_server(ZERO) as up, _recorder(tmp_path, up.url) as rec:
        with socket.create_connection(("127.0.0.1", rec.port), timeout=30) as sock:
            sock.sendall(b"".join(_post(_asked(i, stream=i % 2 == 1)) for i in range(80)))
            answers = _read_answers(sock, 80)
        assert all(h.startswith(b"HTTP/1.1 200") for h, _ in answers)
        assert _models(answers) == [MODELS[i % 3] for i in range(80)]
        assert [b.startswith(b"data: ") for _, b in answers] == [i % 2 == 1 for i in range(80)]
        assert _relayed(rec) == (80, 80)
