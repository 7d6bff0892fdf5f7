"""``serve --workers N``: N processes on one port, counters summed, one SIGTERM stops them all."""

from __future__ import annotations

import os
import re
import signal
import sys
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from llmreplay.cli import main
from llmreplay.workers import WORKER_HEADER, reuse_port_supported

from .serverproc import CHAT, Server, open_stream, request, start, stop

pytestmark = pytest.mark.skipif(not reuse_port_supported(), reason="SO_REUSEPORT balancing is Linux only")


@pytest.fixture
def servers():
    started: list[Server] = []
    yield started
    for s in started:
        stop(s)


def _workers(s: Server, line: str) -> list[int]:
    banner = next(x for x in s.seen if "workers: " in x)
    return [int(p) for p in re.search(r"pids ([\d, ]+)\)", banner).group(1).split(", ")]  # type: ignore[union-attr]


def _parent(pid: int) -> int:
    # /proc/<pid>/stat: "pid (comm) state ppid ..."; comm may hold spaces, so split after the ")".
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"


def _samples(port: int, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    status, _, body = request(port, "GET", "/metrics")
    assert status == 200
    out = {}
    for family in text_string_to_metric_families(body.decode()):
        for sample in family.samples:
            if sample.name == name:
                out[tuple(sorted(sample.labels.items()))] = sample.value
    return out


def _answering(s: Server, want: set[int], tries: int = 200) -> set[int]:
    seen: set[int] = set()
    for _ in range(tries):
        status, headers, _ = request(s.port, "GET", "/health")
        assert status == 200
        seen.add(int(headers[WORKER_HEADER]))
        if want <= seen:
            break
    return seen


def test_two_workers_answer_sum_their_counters_and_stop_on_one_sigterm(servers):
    s = start("--workers", "2", port=0)
    servers.append(s)
    banner = next(x for x in s.seen if x.startswith("llmreplay "))
    s.port = int(re.search(r"127\.0\.0\.1:(\d+)", banner).group(1))  # type: ignore[union-attr]
    pids = _workers(s, banner)
    assert len(pids) == 2 and all(_parent(p) == s.proc.pid for p in pids)
    assert any("per worker" in x and "rate limits" in x for x in s.seen)

    assert _answering(s, set(pids)) == set(pids)

    answered_by: set[int] = set()
    for _ in range(12):
        status, headers, _ = request(s.port, "POST", "/v1/chat/completions", CHAT)
        assert status == 200
        answered_by.add(int(headers[WORKER_HEADER]))
    status, _, _ = request(s.port, "POST", "/v1/chat/completions", CHAT, {"x-llmreplay-status": "503"})
    assert status == 503
    by_status = _samples(s.port, "llmreplay_requests_total")
    assert by_status[(("endpoint", "chat-completions"), ("status", "200"))] == 12
    assert by_status[(("endpoint", "chat-completions"), ("status", "503"))] == 1
    faults = _samples(s.port, "llmreplay_faults_total")
    assert faults == {(("endpoint", "chat-completions"), ("kind", "503")): 1}
    if answered_by == set(pids):  # almost always; the sum is checked either way
        assert sum(_samples(s.port, "llmreplay_output_tokens_total").values()) > 0

    s.signal(signal.SIGTERM)
    assert s.wait() == 0
    assert not any(_alive(p) for p in pids)


def test_workers_drain_a_stream_on_sigterm(servers):
    env = {"STREAM_DELAY_MS": "100", "STREAM_CHUNK_SIZE": "1", "DEFAULT_RESPONSE": "y" * 20}
    s = start("--workers", "2", env=env)
    servers.append(s)
    sock, lines = open_stream(s.port)
    with sock:
        next(line for line in lines if line.startswith(b"data: "))
        s.signal(signal.SIGTERM)
        rest = [line for line in lines if line.startswith(b"data: ")]
    assert rest[-1] == b"data: [DONE]"
    assert s.wait() == 0


def test_a_killed_worker_is_restarted(servers):
    s = start("--workers", "2")
    servers.append(s)
    pids = _workers(s, "")
    os.kill(pids[0], signal.SIGKILL)
    s.wait_for(rf"worker 0 \(pid {pids[0]}\) exited unexpectedly with status -9; restarting")
    new_pid = int(re.search(r"worker 0 \(pid (\d+)\) is listening", s.wait_for("is listening")).group(1))  # type: ignore[union-attr]
    assert new_pid != pids[0] and _parent(new_pid) == s.proc.pid
    assert _answering(s, {new_pid, pids[1]}) == {new_pid, pids[1]}
    s.signal(signal.SIGTERM)
    assert s.wait() == 0


def test_second_sigterm_stops_workers_at_once(servers):
    env = {"STREAM_DELAY_MS": "100", "STREAM_CHUNK_SIZE": "1", "DEFAULT_RESPONSE": "z" * 300}
    s = start("--workers", "2", env=env)
    servers.append(s)
    pids = _workers(s, "")
    sock, lines = open_stream(s.port)
    with sock:
        next(line for line in lines if line.startswith(b"data: "))
        s.signal(signal.SIGTERM)
        s.wait_for("stopping 2 workers")
        s.signal(signal.SIGTERM)
        assert s.wait(timeout=10) == 1
    assert not any(_alive(p) for p in pids)


def test_port_in_use_is_one_line_and_status_2(servers):
    s = start()
    servers.append(s)
    other = start.__globals__["subprocess"].run(
        [sys.executable, "-m", "llmreplay", "serve", "--quiet", "--workers", "2", "--port", str(s.port)],
        capture_output=True,
        timeout=60,
    )
    assert other.returncode == 2
    assert other.stderr.decode().strip().splitlines()[-1].startswith("llmreplay: error: cannot listen on")


def test_more_than_one_worker_needs_linux(monkeypatch, capsys):
    monkeypatch.setattr(sys, "platform", "darwin")
    with pytest.raises(SystemExit) as exc:
        main(["serve", "--workers", "2"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "SO_REUSEPORT" in err and "Linux" in err
