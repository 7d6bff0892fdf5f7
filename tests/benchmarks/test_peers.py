"""The peers plumbing of ``python -m benchmarks --peers``, without the internet: no peer is installed here.

The stand-in peer is the bare handler (``benchmarks.baseline``) started the way a peer is; the real peers are
checked only for the configuration they are given (their files and flags), which is what decides whether they
answer the figure's reply on the figure's schedule.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest

from benchmarks import peers_figures, peers_tables
from benchmarks.held import Held
from benchmarks.peers import PEERS, STAND_IN, Launch, Outcome, Peer, Shape, select
from benchmarks.peers_figures import attempt, run_held, section, stream_shape

FIG2 = stream_shape(20)


def by_name(name: str) -> Peer:
    return next(p for p in PEERS if p.name.endswith(name))


def test_every_peer_is_pinned_and_named_by_its_last_part() -> None:
    assert [p.name.rsplit("/", 1)[-1] for p in select("all")] == ["aimock", "mock-llm", "fakellm", "llmock"]
    assert all(p.version[0].isdigit() and p.registry in ("npm", "pypi") for p in PEERS)
    assert [p.name for p in select("llmock,aimock")] == ["@copilotkit/aimock", "llmock"]
    with pytest.raises(ValueError, match="unknown peer"):
        select("aimock,nope")


def test_aimock_gets_a_catch_all_fixture_with_the_reply_and_the_schedule(tmp_path: Path) -> None:
    launch = by_name("aimock").launch(tmp_path, tmp_path, 4010, FIG2)
    fixture = json.loads((tmp_path / "aimock.json").read_text())["fixtures"][0]
    assert fixture["match"] == {} and fixture["response"]["content"] == FIG2.text
    assert fixture["streamingProfile"] == {"ttft": 50.0, "tps": 20.0}
    assert launch.cmd[-6:] == ["-f", str(tmp_path / "aimock.json"), "--chunk-size", "10", "--log-level", "silent"]


def test_mock_llm_answers_the_reply_in_chunks_one_gap_apart(tmp_path: Path) -> None:
    launch = by_name("mock-llm").launch(tmp_path, tmp_path, 6556, FIG2)
    config = json.loads((tmp_path / "mock-llm.yaml").read_text())
    assert config["streaming"] == {"chunkSize": 10, "chunkIntervalMs": 50.0}
    reply = json.loads(config["rules"][0]["response"]["content"])
    assert reply["choices"][0]["message"]["content"] == FIG2.text
    assert launch.env == {"PORT": "6556", "HOST": "127.0.0.1"}
    assert by_name("mock-llm").schedule(FIG2) == ""
    assert "no TTFT" in by_name("mock-llm").schedule(dataclasses.replace(FIG2, ttft_ms=300))


def test_llmock_takes_the_schedule_as_flags_and_the_reply_as_a_scenario(tmp_path: Path) -> None:
    launch = by_name("llmock").launch(tmp_path, tmp_path, 8000, FIG2)
    flags = " ".join(launch.cmd)
    assert "--latency-ms 50 --stream-chunk-delay-ms 50" in flags and "--tool-mode off" in flags
    assert launch.ready is not None
    assert by_name("llmock").schedule(FIG2) == ""  # "abcdefghi " is one word of 10 characters
    assert "one word per chunk" in by_name("llmock").schedule(dataclasses.replace(FIG2, text="a few short words"))


def test_fakellm_answers_the_reply_and_cannot_hold_a_schedule(tmp_path: Path) -> None:
    launch = by_name("fakellm").launch(tmp_path, tmp_path, 9999, Shape("hi there"))
    rules = json.loads((tmp_path / "fakellm.yaml").read_text())["rules"]
    assert rules == [{"name": "bench", "respond": {"content": "hi there"}}]
    assert "--no-access-log" in launch.cmd and launch.env["FAKELLM_CONFIG"] == str(tmp_path / "fakellm.yaml")
    out = attempt(by_name("fakellm"), FIG2, tmp_path, lambda server, url: pytest.fail("must not start"))
    assert out.problem.startswith("not supported: ") and out.result is None


def test_a_peer_that_cannot_install_or_start_is_a_row_not_a_crash(tmp_path: Path) -> None:
    bad_registry = Peer("ghost", "1.0", "nowhere", STAND_IN.launch)
    out = attempt(bad_registry, Shape("x"), tmp_path, lambda server, url: None)
    assert out.problem == "failed to install: unknown registry 'nowhere'"

    def exits(home: Path, work: Path, port: int, shape: Shape) -> Launch:
        return Launch([sys.executable, "-c", "raise SystemExit(3)"])

    out = attempt(Peer("quitter", "1.0", "local", exits), Shape("x"), tmp_path, lambda server, url: None)
    assert out.problem.startswith("failed to start: server exited with 3")


def test_a_peer_that_fails_while_measured_says_so(tmp_path: Path) -> None:
    def measure(server: object, url: str) -> None:
        raise RuntimeError("stream client failed (1): boom")

    out = attempt(STAND_IN, Shape("x"), tmp_path, measure)
    assert out.problem == "failed to measure: stream client failed (1): boom"


def test_a_peer_answering_another_reply_is_not_measured(tmp_path: Path) -> None:
    # The bare handler answers its own fixed body, not figure 1's reply.
    [out] = peers_figures.run_plain([STAND_IN], tmp_path, 1, 1, drive=lambda url, d, c: pytest.fail("measured"))
    assert out.problem.startswith("failed to measure: answers 'Hello! How can I help you today?'")


def test_figure_2_runs_a_started_peer_with_the_stream_client_and_tables_it(tmp_path: Path) -> None:
    [out] = run_held([STAND_IN], tmp_path, [5], events=3)[5]
    assert isinstance(out.result, Held) and out.result.stats["completed"] == 5, out.problem
    held = dataclasses.asdict(out.result)
    raw = {"5": {"baseline": held, "llmreplay": held}, "10000": {"baseline": held, "llmreplay": held}}
    text = section(2, raw, [STAND_IN], tmp_path, duration=1, connections=1, events=3)
    table, target = text.split("\n\n")
    rows = table.splitlines()[2:]
    assert target.startswith("Target (issue 23) at 5 streams: gap error p99 no worse than any peer's")
    assert "against bare-handler-as-peer's" in target and "5 of 5 completed" in target
    names = [r.split(" | ")[1] for r in rows]
    assert names[:3] == ["bare aiohttp handler", "llmreplay", "bare-handler-as-peer 0"]
    assert names[3].startswith("bare handler again, after the peers (aiohttp ")
    assert rows[2].startswith("| 5 |") and "| 5 (" in rows[2]
    assert [p["peer"] for p in raw["peers"]["5"]] == ["bare-handler-as-peer", "bare handler again, after the peers"]


def test_figure_1_table_has_ratios_against_the_bare_handler_and_llmreplay() -> None:
    raw = {
        "baseline": {"rps": 20_000.0, "p50": 2.0, "p99": 5.0},
        "llmreplay": {"rps": 10_000.0, "p50": 4.0, "p99": 10.0},
    }
    outcomes = [
        Outcome("@copilotkit/aimock", "1.43.0", {"rps": 5_000.0, "p50": 8.0, "p99": 20.0, "non2xx": 0.0}),
        Outcome("llmock", "0.2.2", problem="failed to start: server exited with 1"),
    ]
    versions = {"bare aiohttp handler": "aiohttp 3", "llmreplay": "0.1.0"}
    lines = peers_tables.plain_table(raw, outcomes, versions).splitlines()
    assert lines[2] == "| bare aiohttp handler | aiohttp 3 | 20,000 | 1.00× | 0.50× | 2.00 ms | 5.00 ms | 1.00× |"
    assert lines[3] == "| llmreplay | 0.1.0 | 10,000 | 0.50× | — | 4.00 ms | 10.00 ms | 2.00× |"
    assert lines[4] == "| @copilotkit/aimock | 1.43.0 | 5,000 | 0.25× | 2.00× | 8.00 ms | 20.00 ms | 4.00× |"
    assert lines[5] == "| llmock | 0.2.2 | failed to start: server exited with 1 | — | — | — | — | — |"
    assert lines[7] == "Target (issue 23): llmreplay ≥ 1.2× aimock's requests/s: 2.00×, met."
    slower = [dataclasses.replace(outcomes[0], result={"rps": 9_000.0})]
    assert peers_tables.plain_table(raw, slower, versions).endswith("requests/s: 1.11×, **NO**.")


def _figure_1_beside_aimock(**rows: dict[str, float]) -> list[str]:
    """Figure 1's table for llmreplay at half the bare handler's rate with ``rows`` beside it, and aimock at 15,000."""
    raw = {
        "baseline": {"rps": 20_000.0, "p50": 2.0, "p99": 5.0},
        "llmreplay": {"rps": 10_000.0, "p50": 4.0, "p99": 10.0},
        **rows,
    }
    outcomes = [Outcome("@copilotkit/aimock", "1.43.0", {"rps": 15_000.0, "p50": 8.0, "p99": 20.0})]
    versions = {"bare aiohttp handler": "aiohttp 3", "llmreplay": "0.1.0"}
    return peers_tables.plain_table(raw, outcomes, versions).splitlines()


def test_figure_1_table_reports_a_scripted_rules_answers_beside_aimock() -> None:
    lines = _figure_1_beside_aimock(rule={"rps": 12_000.0, "p50": 3.0, "p99": 7.5})
    assert lines[4] == "| llmreplay, a scripted rule | 0.1.0 | 12,000 | 0.60× | 0.83× | 3.00 ms | 7.50 ms | 1.50× |"
    assert lines[-1] == (
        "Target (issue 23): llmreplay ≥ 1.2× aimock's requests/s: 0.67×, **NO**. "
        "A scripted rule's answers (target 2, reported): 0.80× aimock's."
    )


def test_figure_1_table_has_a_seeded_row_measured_against_aimock_too() -> None:
    lines = _figure_1_beside_aimock(
        seeded={"rps": 18_000.0, "p50": 2.5, "p99": 6.0}, rule={"rps": 12_000.0, "p50": 3.0, "p99": 7.5}
    )
    assert lines[4] == "| llmreplay, seeded | 0.1.0 | 18,000 | 0.90× | 0.56× | 2.50 ms | 6.00 ms | 1.20× |"
    assert lines[5].startswith("| llmreplay, a scripted rule |")
    assert lines[-1] == (
        "Target (issue 23): llmreplay ≥ 1.2× aimock's requests/s: 0.67×, **NO**. Seeded: 1.20×, met. "
        "A scripted rule's answers (target 2, reported): 0.80× aimock's."
    )


def test_a_failed_install_says_what_the_installer_said() -> None:
    from benchmarks.peers_install import PeerError, _run

    npm_like = "import sys; sys.stderr.write('npm error code ECONNREFUSED\\nnpm error A complete log\\n'); sys.exit(1)"
    with pytest.raises(PeerError, match=r"^npm install exited with 1: npm error code ECONNREFUSED$"):
        _run([sys.executable, "-c", npm_like], "npm install")
    pip_like = "import sys; sys.stderr.write('Looking\\nERROR: No matching distribution\\n'); sys.exit(1)"
    with pytest.raises(PeerError, match=r": ERROR: No matching distribution$"):
        _run([sys.executable, "-c", pip_like], "pip install")
