"""One writer per cassette (issue 19, case 23): a second ``llmreplay record`` on a cassette refuses at start."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmreplay.server import BackgroundServer

from .common import RAW_CASES, ZERO, fetch, only_cassette, recorder, upstream_server
from .test_crash_concurrency import ROOT, free_port


@pytest.fixture(scope="module")
def upstream() -> Iterator[BackgroundServer]:
    with upstream_server(ZERO) as s:
        yield s


def test_a_second_recorder_of_one_cassette_exits_2_with_one_line(tmp_path: Path, upstream: BackgroundServer) -> None:
    plain = next(r for r in RAW_CASES if not r.stream)
    with recorder(tmp_path, upstream.url) as first:
        cmd = [sys.executable, "-m", "llmreplay", "record", "--upstream", upstream.url]
        cmd += ["--cassettes", str(tmp_path), "--port", str(free_port()), "--quiet"]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        second = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, timeout=60, check=False)
        assert second.returncode == 2, second.stderr.decode()
        lines = second.stderr.decode().splitlines()
        target = tmp_path / "recorded.msgpack"
        assert lines == [f"llmreplay: error: {target}: already being recorded by another recorder"]
        # The first recorder was not disturbed: it still records.
        got = fetch(first.url, plain)
        assert got.status == 200
    assert len(only_cassette(tmp_path)) == 1
