"""The container image's start command, run here as the image would run it (no container engine needed).

The test reads the Dockerfile's final stage (ENV, ENTRYPOINT + CMD, HEALTHCHECK), so it follows the
file: change the command there and this runs the new one. Differences from a real container, and why:

- ``llmreplay`` and ``python`` are this interpreter (``python -m llmreplay`` is what the console script runs);
- ``PATH`` keeps the host's (the image's points into its own virtual environment);
- ``PORT`` is a free port, ``HOST`` is 127.0.0.1 (tests stay off other interfaces) and ``/cassettes`` is a
  temporary folder holding ``cassettes/example.msgpack``;
- replay and synthetic latency are zero, as docker-compose.yml sets them, so nothing waits.
"""

from __future__ import annotations

import json
import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from llmreplay.cassettes.store import load

from .serverproc import Server, free_port, request, spawn, stop

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = ROOT / "Dockerfile"
EXAMPLE = ROOT / "cassettes" / "example.msgpack"
FAST = {"LLMREPLAY_SPEED": "0", "STREAM_INITIAL_DELAY_MS": "0", "STREAM_DELAY_MS": "0", "STREAM_JITTER_MS": "0"}


def stages(text: str) -> list[list[tuple[str, str]]]:
    """Each stage's (INSTRUCTION, arguments), continuation lines joined; ARGs before the first FROM left out."""
    logical: list[str] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        logical.append(pending + line)
        pending = ""
    found: list[list[tuple[str, str]]] = []
    for line in logical:
        word, _, rest = line.partition(" ")
        if word.upper() == "FROM":
            found.append([])
        if found:
            found[-1].append((word.upper(), rest.strip()))
    return found


def image_env(stage: list[tuple[str, str]]) -> dict[str, str]:
    """The ENV the final stage sets (``KEY=value`` pairs; values may be quoted)."""
    env: dict[str, str] = {}
    for word, rest in stage:
        if word == "ENV":
            for pair in shlex.split(rest):
                key, sep, value = pair.partition("=")
                assert sep, f"ENV {pair!r}: use the KEY=value form"
                env[key] = value
    return env


def exec_form(stage: list[tuple[str, str]], word: str) -> list[str]:
    """The JSON array of the last ENTRYPOINT or CMD (the exec form: no shell in between)."""
    found = [rest for w, rest in stage if w == word]
    if not found:
        return []
    value = json.loads(found[-1])
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), f"{word} must be a JSON array"
    return value


def healthcheck(stage: list[tuple[str, str]]) -> list[str]:
    """The HEALTHCHECK's command, an exec-form array after its options."""
    rest = next(rest for w, rest in stage if w == "HEALTHCHECK")
    _, sep, command = rest.partition("CMD ")
    assert sep, "HEALTHCHECK needs a CMD"
    value = json.loads(command)
    assert isinstance(value, list)
    return value


def local(argv: list[str]) -> list[str]:
    """The image's argv with its programs replaced by this interpreter's equivalents."""
    programs = {"llmreplay": [sys.executable, "-m", "llmreplay"], "python": [sys.executable]}
    return [*programs.get(argv[0], [argv[0]]), *argv[1:]]


STAGES = stages(DOCKERFILE.read_text())
STAGE = STAGES[-1]
ENV = image_env(STAGE)


def test_image_defaults() -> None:
    """What docs/containers.md promises about the image."""
    assert ENV["HOST"] == "0.0.0.0", "the container must listen beyond its loopback"
    assert ENV["LLMREPLAY_CASSETTES"] == "/cassettes"
    assert ENV["LLMREPLAY_ON_MISS"] == "synthetic"
    assert ENV["PATH"].startswith("/opt/llmreplay/bin:")
    assert ("EXPOSE", ENV["PORT"]) in STAGE
    assert ("VOLUME", '["/cassettes"]') in STAGE
    user = next(rest for w, rest in STAGE if w == "USER")
    assert user.split(":")[0] not in ("0", "root"), "the image runs as a non-root user"
    assert exec_form(STAGE, "ENTRYPOINT") + exec_form(STAGE, "CMD") == ["llmreplay", "serve"]


def test_image_extras_exist() -> None:
    """Every extra the image installs is declared in pyproject.toml (pip only warns about a missing one)."""
    import tomllib

    build_args = dict(rest.split("=", 1) for stage in STAGES for w, rest in stage if w == "ARG" and "=" in rest)
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    for name in build_args["EXTRAS"].split(","):
        assert name in extras, f"Dockerfile installs .[{name}] but pyproject.toml has no such extra"


@pytest.fixture
def container(tmp_path: Path) -> Iterator[tuple[Server, dict[str, str]]]:
    """The image's start command on a free port, /cassettes standing in as a temporary folder."""
    cassettes = tmp_path / "cassettes"
    cassettes.mkdir()
    shutil.copy(EXAMPLE, cassettes / EXAMPLE.name)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "PROMETHEUS_MULTIPROC_DIR"}
    env.update({k: v for k, v in ENV.items() if k != "PATH"})
    env.update(FAST, HOST="127.0.0.1", PORT=str(port), LLMREPLAY_CASSETTES=str(cassettes))
    argv = local(exec_form(STAGE, "ENTRYPOINT") + exec_form(STAGE, "CMD"))
    server = spawn(argv, env, port)
    try:
        yield server, env
    finally:
        stop(server)


def test_start_command_replays_and_answers_misses(container: tuple[Server, dict[str, str]]) -> None:
    server, env = container
    assert any(f"cassettes {env['LLMREPLAY_CASSETTES']} (1 loaded" in line for line in server.seen), server.seen

    status, _, body = request(server.port, "GET", "/health")
    assert (status, json.loads(body)) == (200, {"status": "ok"})

    check = subprocess.run(local(healthcheck(STAGE)), env=env, capture_output=True, timeout=30)
    assert check.returncode == 0, check.stderr.decode()

    recorded = load(EXAMPLE).interactions[0]
    status, _, body = request(server.port, recorded.request.method, recorded.request.path, recorded.request.body)
    assert status == 200
    assert body == recorded.response.body, "the mounted cassette's answer, byte for byte"

    miss = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Nothing recorded asks this."}]}
    status, _, body = request(server.port, "POST", "/v1/chat/completions", json.dumps(miss).encode())
    assert status == 200, body
    reply = json.loads(body)
    assert reply["object"] == "chat.completion"
    assert reply["choices"][0]["message"]["content"], "a synthetic reply, not an error"


def test_healthcheck_fails_when_nothing_listens() -> None:
    env = {**os.environ, "PORT": str(free_port())}
    check = subprocess.run(local(healthcheck(STAGE)), env=env, capture_output=True, timeout=30)
    assert check.returncode != 0
