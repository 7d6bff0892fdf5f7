"""A cassette name from a user never leads out of the cassette folder, whichever way it comes in."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from llmreplay.cassettes import store
from llmreplay.config import ConfigError
from llmreplay.sources.deck import Deck
from tests.conftest import settings

BAD = ["../evil", "..", "a/../../b", "/etc/passwd", "/tmp/x", "sub/name", "a\\b", "..\\evil", "nul\x00byte", ""]


@pytest.mark.parametrize("name", BAD)
def test_store_refuses(tmp_path: Path, name: str) -> None:
    with pytest.raises(store.CassetteError):
        store.cassette_path(tmp_path, name)


@pytest.mark.parametrize("name", ["recorded", "my-tests_2", "a.b", "ünïcode"])
def test_store_keeps_good_names_inside(tmp_path: Path, name: str) -> None:
    path = store.cassette_path(tmp_path, name)
    assert path.resolve().parent == tmp_path.resolve()


@pytest.mark.parametrize("name", BAD[:-1])
def test_settings_refuse(tmp_path: Path, name: str) -> None:
    cfg = settings(cassettes={"dir": str(tmp_path), "cassette": name, "upstream": "http://127.0.0.1:9"}).cassettes
    with pytest.raises(ConfigError):
        Deck(cfg)


@pytest.mark.parametrize("name", ["../evil", "/tmp/evil", "a/b"])
def test_cli_refuses(tmp_path: Path, name: str) -> None:
    folder = tmp_path / "cassettes"
    cmd = [
        sys.executable,
        "-m",
        "llmreplay",
        "record",
        "--upstream",
        "http://127.0.0.1:9",
        "--cassettes",
        str(folder),
        "--cassette",
        name,
        "--port",
        "0",
    ]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
    assert done.returncode == 2, done.stderr
    assert "invalid cassette name" in done.stderr
    assert "Traceback" not in done.stderr
    assert not any(tmp_path.rglob("*.msgpack"))


def test_env_refuses(tmp_path: Path) -> None:
    env = {"LLMREPLAY_CASSETTE": "../evil", "PATH": "/usr/bin:/bin"}
    cmd = [sys.executable, "-m", "llmreplay", "record", "--upstream", "http://127.0.0.1:9"]
    cmd += ["--cassettes", str(tmp_path / "c"), "--port", "0"]
    done = subprocess.run(cmd, capture_output=True, text=True, timeout=30, env=env)
    assert done.returncode == 2, done.stderr
    assert "invalid cassette name" in done.stderr
