import subprocess
import sys

import pytest


def run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    import os

    e = {k: v for k, v in os.environ.items() if k not in {"PORT", "STREAM_DELAY_MS"}}
    e.update(env or {})
    return subprocess.run([sys.executable, "-m", "llmreplay", *args], capture_output=True, text=True, env=e, timeout=30)


def test_version():
    out = run("--version")
    assert out.returncode == 0 and "llmreplay" in out.stdout


@pytest.mark.parametrize("cmd", [[], ["serve"]])
def test_help(cmd):
    out = run(*cmd, "--help")
    assert out.returncode == 0 and "Usage" in out.stdout


@pytest.mark.parametrize(
    ("args", "env", "needle"),
    [
        (["serve"], {"PORT": "nope"}, "PORT='nope'"),
        (["serve"], {"STREAM_DELAY_MS": "-5"}, "STREAM_DELAY_MS"),
        (["serve", "--port", "x"], {}, "--port"),
        (["serve", "--bogus"], {}, "--bogus"),
        (["frobnicate"], {}, "frobnicate"),
        (["serve", "--config", "/nonexistent.toml"], {}, "does not exist"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args, env, needle):
    out = run(*args, env=env)
    assert out.returncode == 2, out
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and needle in lines[0], out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (
            ["serve", "--port", "0"],
            {"STREAM_INITIAL_DELAY_MS": "700000"},
            "llmreplay: error: STREAM_INITIAL_DELAY_MS='700000': expected a number ≥ 0, at most 600000",
        ),
        (
            ["serve", "--port", "0"],
            {"RATE_LIMIT_RANDOM_PROBABILITY": "1.5"},
            "llmreplay: error: RATE_LIMIT_RANDOM_PROBABILITY='1.5': expected a number from 0 to 1",
        ),
    ],
    ids=["live bound", "original name"],
)
def test_a_value_the_live_config_refuses_stops_the_start_in_one_line(args, env, expected):
    # These passed the start-up check once and then died in the live configuration with a traceback.
    out = run(*args, env=env)
    assert out.returncode == 2, out
    assert out.stderr.strip().splitlines() == [expected]
    assert "Traceback" not in out.stderr
