"""``python -m benchmarks.hostile`` still runs: two cheap cases at the quick sizes, each with its row (no figure is
checked; the script reports them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_hostile_script_runs_two_cases_and_reports_each() -> None:
    cmd = [sys.executable, "-m", "benchmarks.hostile", "--quick", "--case", "13,22", "--json"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    rows = [json.loads(line) for line in done.stdout.splitlines()]
    assert [r["case"] for r in rows] == [13, 22]
    for row in rows:
        assert row["health_polls"] > 0 and row["health_longest_ms"] >= 0
        before, after, peak = row["rss_kib"]
        assert 0 < before <= peak and after <= peak
        assert row["tracebacks"] == 0
    assert rows[1]["key_in"] == {"cassette": False, "log": False, "ws": False}


def test_the_table_has_one_row_per_case() -> None:
    from benchmarks.hostile import table

    row = {"case": 1, "sent": "a|b", "answer": "400", "tracebacks": 0, "seconds": 1.0}
    lines = table([row, {**row, "case": 2, "key_in": {"cassette": True, "log": False, "ws": False}}]).splitlines()
    assert len(lines) == 4
    assert lines[2].startswith("| 1 | a\\|b | 400 | — |")
    assert "| cassette |" in lines[3]
