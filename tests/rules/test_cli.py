"""``llmreplay rules check`` and ``serve --rules``: OK and a summary, or one line per problem and exit code 2."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

GOOD = """
rules:
  - name: any
    reply: {text: hi}
  - name: hello
    match: {last_user: hello}
    reply: {text: hello}
  - name: flaky
    steps: [{outcome: "429"}, {text: ok}]
    then: stop
"""
BAD = """
rules:
  - name: weather-call
    match: {model: 5}
    reply: {text: x}
  - reply: {}
"""


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("LLMREPLAY_", "PORT"))}
    return subprocess.run(
        [sys.executable, "-m", "llmreplay", *args], capture_output=True, text=True, env=env, timeout=30
    )


def _file(tmp_path: Path, text: str, name: str = "rules.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_check_ok_with_a_summary_and_the_shadowed(tmp_path):
    path = _file(tmp_path, GOOD)
    out = run("rules", "check", path)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == f"{path}: OK, 3 rules (1 with steps, 1 that stop matching); answers: outcome 1, text 3"
    tail = "comes first, never stops matching, and matches everything it does"
    assert out.stderr.strip().splitlines() == [
        f"llmreplay: warning: {path}: rule 'hello' (rules[1]) can never match: rule 'any' (rules[0]) {tail}",
        f"llmreplay: warning: {path}: rule 'flaky' (rules[2]) can never match: rule 'any' (rules[0]) {tail}",
    ]
    assert run("rules", "check", "--strict", path).returncode == 1


def test_check_errors_one_line_each_exit_2(tmp_path):
    path = _file(tmp_path, BAD)
    out = run("rules", "check", path)
    assert out.returncode == 2 and out.stdout == ""
    lines = out.stderr.strip().splitlines()
    assert lines[0].startswith(f"llmreplay: error: {path}: rule 'weather-call' (rules[0]): match.model: expected")
    assert lines[1] == (
        f"llmreplay: error: {path}: rules[1]: reply: a reply needs one of text, tool_calls, json, refusal, cassette "
        "or outcome"
    )
    assert len(lines) == 2
    missing = run("rules", "check", str(tmp_path / "none.toml"))
    assert missing.returncode == 2 and missing.stderr.strip().endswith("none.toml: no such file")


def test_serve_with_a_bad_rules_file_stops_at_start(tmp_path):
    path = _file(tmp_path, BAD)
    out = run("serve", "--port", "0", "--rules", path)
    assert out.returncode == 2
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 2 and all(line.startswith(f"llmreplay: error: {path}: ") for line in lines)
