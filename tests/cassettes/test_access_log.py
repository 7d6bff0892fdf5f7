"""The server's access log says, of every call a cassette took part in, hit, recorded or miss and which
cassette (``NAME#INDEX`` for a hit): as text and as ``--log-format json``, from a real ``llmreplay serve``
driven by the OpenAI SDK."""

from __future__ import annotations

import json
from pathlib import Path

import openai
import pytest

from llmreplay.server import BackgroundServer
from tests.cassettes.recorded_kit import ZERO, ask, client, record
from tests.conftest import settings
from tests.serverproc import start, stop

pytestmark = pytest.mark.sdk


def test_recorded_then_hit_lines_name_the_cassette_as_json(tmp_path: Path) -> None:
    upstream = settings(latency=ZERO, synthetic={"default_response": "Live answer.", "tool_call_probability": 0})
    with BackgroundServer(upstream) as up:
        server = start(
            "--cassettes", str(tmp_path), "--record-mode", "new_episodes", "--upstream", up.url,
            "--log-format", "json", quiet=False,
        )  # fmt: skip
        try:
            sdk = client(f"http://127.0.0.1:{server.port}/v1", **{"x-llmreplay-cassette": "episode"})
            assert ask(sdk)[0] == "Live answer."
            recorded = json.loads(server.wait_for(r'"llmreplay.access"'))
            assert recorded["match"] == "recorded" and recorded["cassette"] == "episode"
            assert recorded["source"].endswith("upstream")
            ask(sdk)
            hit = json.loads(server.wait_for(r'"llmreplay.access"'))
            assert hit["match"] == "hit" and hit["cassette"] == "episode#0" and hit["status"] == 200
        finally:
            stop(server)


def test_hit_and_miss_lines_name_the_cassette_as_text(tmp_path: Path) -> None:
    record(tmp_path, "alpha", "Alpha answers.")
    server = start("--cassettes", str(tmp_path), quiet=False)
    try:
        base = f"http://127.0.0.1:{server.port}"
        ask(client(f"{base}/v1"))
        hit = server.wait_for(r"llmreplay.access POST /v1/chat/completions")
        assert hit.endswith(" cassette:alpha#0 hit alpha#0"), hit
        with pytest.raises(openai.BadRequestError):
            client(f"{base}/_test/alpha/v1").chat.completions.create(
                model="gpt-4o-mini", messages=[{"role": "user", "content": "never recorded"}]
            )
        miss = server.wait_for(r"llmreplay.access POST /v1/chat/completions")
        assert " 400 " in miss and miss.endswith(" error miss alpha"), miss
    finally:
        stop(server)
