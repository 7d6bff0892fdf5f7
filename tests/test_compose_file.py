"""docker-compose.yml, checked without a container engine: its shape, and its example app run for real."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from llmreplay.server import BackgroundServer

ROOT = Path(__file__).resolve().parent.parent
COMPOSE: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]


def profiles(name: str) -> list[str]:
    return list(SERVICES[name].get("profiles", []))


def test_default_profile_is_llmreplay_and_an_app() -> None:
    always = sorted(name for name in SERVICES if not profiles(name))
    assert always == ["app", "llmreplay"]
    llm = SERVICES["llmreplay"]
    assert llm["build"] == "."
    assert "./cassettes:/cassettes:ro" in llm["volumes"]
    assert (ROOT / "cassettes").is_dir()
    assert llm["ports"] == ["57593:57593"]
    app = SERVICES["app"]
    assert app["depends_on"] == {"llmreplay": {"condition": "service_healthy"}}
    assert app["environment"]["OPENAI_BASE_URL"] == "http://llmreplay:57593/v1"
    assert app["environment"]["ANTHROPIC_BASE_URL"] == "http://llmreplay:57593"
    assert app["environment"]["GOOGLE_GEMINI_BASE_URL"] == "http://llmreplay:57593"


def test_scale_profile_runs_two_replicas_on_redis() -> None:
    scaled = sorted(name for name in SERVICES if "scale" in profiles(name))
    assert scaled == ["app-scaled", "llmreplay-scaled", "redis"]
    replicas = SERVICES["llmreplay-scaled"]
    assert replicas["deploy"]["replicas"] == 2
    assert replicas["environment"]["LLMREPLAY_STATE"] == "redis://redis:6379/0"
    assert replicas["depends_on"]["redis"]["condition"] == "service_healthy"
    assert "healthcheck" in SERVICES["redis"]
    # One host port per replica, or the second could not start.
    assert replicas["ports"] == ["57600-57601:57593"]
    # The merge key brought the shared settings along.
    assert replicas["environment"]["LLMREPLAY_ON_MISS"] == "synthetic"
    assert "./cassettes:/cassettes:ro" in replicas["volumes"]


def test_every_llmreplay_service_sets_an_admin_token() -> None:
    for name in ("llmreplay", "llmreplay-scaled"):
        assert SERVICES[name]["environment"]["LLMREPLAY_ADMIN_TOKEN"], name


def test_example_apps_talk_to_llmreplay(server: BackgroundServer) -> None:
    """Each app's inline script, run against a real server in place of the compose network's."""
    for name in ("app", "app-scaled"):
        command = SERVICES[name]["command"]
        assert command[:2] == ["python", "-c"]
        env = {**os.environ, **SERVICES[name]["environment"], "OPENAI_BASE_URL": f"{server.url}/v1"}
        done = subprocess.run([sys.executable, "-c", command[2]], env=env, capture_output=True, timeout=60)
        assert done.returncode == 0, done.stderr.decode()
        assert done.stdout.strip(), name
