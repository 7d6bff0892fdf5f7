"""Two real llmreplay servers on one redis-server: a cassette loaded (or unloaded) through one's admin API is
loaded (or unloaded) by the other too, and one that starts later takes what is loaded."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests import serverproc
from tests.cassettes.recorded_kit import QUESTION, record
from tests.serverproc import request
from tests.state import REDIS_SERVER, RedisServer

pytestmark = pytest.mark.skipif(
    REDIS_SERVER is None, reason="redis-server is not installed (apt-get install redis-server)"
)
pytest.importorskip("redis")

PUSHED_WITHIN_S = 10.0
"""A hang guard, not a figure: a change is published at once and the file read in milliseconds."""
ASK = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": QUESTION}]}).encode()


def _answer(server: serverproc.Server, test_id: str) -> tuple[int, str]:
    status, headers, body = request(server.port, "POST", f"/_test/{test_id}/v1/chat/completions", ASK)
    return status, headers.get("x-llmreplay-cassette", "") if status == 200 else json.loads(body)["error"]["message"]


def _until(check: Callable[[], bool], what: str) -> None:
    end = time.monotonic() + PUSHED_WITHIN_S
    while not check():
        assert time.monotonic() < end, what
        time.sleep(0.05)


def test_a_cassette_loaded_on_one_server_is_loaded_on_the_other(redis_server: RedisServer, tmp_path: Path) -> None:
    recorded = record(tmp_path / "recorded", "alpha", "Alpha answers.")
    env = {"LLMREPLAY_STATE": redis_server.url}
    folder = tmp_path / "empty"
    folder.mkdir()
    a = serverproc.start("--cassettes", str(folder), env=env)
    b = serverproc.start("--cassettes", str(folder), env=env)
    try:
        body = json.dumps({"path": str(recorded), "name": "shared-test"}).encode()
        assert request(a.port, "POST", "/api/cassettes", body)[0] == 200
        assert _answer(a, "shared-test") == (200, "shared-test#0")
        _until(lambda: _answer(b, "shared-test") == (200, "shared-test#0"), "b never loaded the cassette")

        # A server that starts now takes the cassettes loaded so far.
        c = serverproc.start("--cassettes", str(folder), env=env)
        try:
            _until(lambda: _answer(c, "shared-test") == (200, "shared-test#0"), "c never took the stored cassette")
        finally:
            serverproc.stop(c)

        assert request(b.port, "DELETE", "/api/cassettes/shared-test")[0] == 200
        _until(lambda: _answer(a, "shared-test")[0] == 400, "a kept the cassette b unloaded")
    finally:
        serverproc.stop(a)
        serverproc.stop(b)
