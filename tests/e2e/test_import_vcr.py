"""A cassette vcrpy itself recorded, imported with ``llmreplay cassettes import-vcr`` and served to the SDKs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import requests
import vcr
from click.testing import CliRunner

from llmreplay.cassettes.store import load
from llmreplay.cli import cli
from llmreplay.server import BackgroundServer
from tests.conftest import settings

from .common import ANTHROPIC_KEY, OPENAI_KEY, anthropic_client, openai_client, replayer

pytestmark = pytest.mark.sdk

CHAT = {"messages": [{"role": "user", "content": "vcr chat"}], "model": "gpt-4o-mini"}
CHAT_STREAM = {"messages": [{"role": "user", "content": "vcr chat stream"}], "model": "gpt-4o-mini", "stream": True}
MESSAGES = {"max_tokens": 300, "messages": [{"role": "user", "content": "vcr messages"}], "model": "claude-sonnet-4-6"}


def chat_stream_text(body: bytes) -> str:
    out = []
    for line in body.decode().splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            chunk = json.loads(line[6:])
            if chunk["choices"]:
                out.append(chunk["choices"][0]["delta"].get("content") or "")
    return "".join(out)


def record_with_vcrpy(path: Path, base: str) -> dict[str, str]:
    """Real HTTP calls through ``requests``, recorded by vcrpy; returns the text of each original answer."""
    openai_headers = {"authorization": f"Bearer {OPENAI_KEY}", "content-type": "application/json"}
    with vcr.VCR(record_mode="all").use_cassette(str(path)):
        chat = requests.post(base + "/v1/chat/completions", json=CHAT, headers=openai_headers, timeout=10)
        with requests.post(
            base + "/v1/chat/completions", json=CHAT_STREAM, headers=openai_headers, timeout=10, stream=True
        ) as r:
            stream_body = b"".join(r.iter_content(None))
        ant_headers = {"x-api-key": ANTHROPIC_KEY, "anthropic-version": "2023-06-01"}
        msg = requests.post(base + "/v1/messages", json=MESSAGES, headers=ant_headers, timeout=10)
    assert chat.status_code == msg.status_code == 200
    return {
        "chat": chat.json()["choices"][0]["message"]["content"],
        "stream": chat_stream_text(stream_body),
        "messages": msg.json()["content"][0]["text"],
    }


def test_vcrpy_cassette_imports_and_replays_to_the_sdks(tmp_path: Path) -> None:
    yaml_file = tmp_path / "vcr" / "chat_and_messages.yaml"
    folder = tmp_path / "cassettes"
    # No fixed reply, no seed; and the replayer answers a miss with an error, so only the recording can
    # give these texts back. (Two of them may coincide: half the replies come from a pool of canned answers.)
    with BackgroundServer(settings(synthetic={"tool_call_probability": 0})) as up:
        original = record_with_vcrpy(yaml_file, up.url)
    assert yaml_file.is_file()
    assert all(original.values())

    result = CliRunner().invoke(cli, ["cassettes", "import-vcr", str(yaml_file), "--cassettes", str(folder)])
    assert result.exit_code == 0, result.output
    written = folder / "chat_and_messages.msgpack"
    assert f"{written}: 3 interactions" in result.output
    its = load(written).interactions
    assert [it.api for it in its] == ["openai-chat", "openai-chat", "anthropic-messages"]
    assert [it.response.stream for it in its] == [False, True, False]
    raw = written.read_bytes()
    assert OPENAI_KEY.encode() not in raw and ANTHROPIC_KEY.encode() not in raw

    with replayer(folder, speed=0) as rp:
        oa = openai_client(rp.url)
        chat = oa.chat.completions.create(model="gpt-4o-mini", messages=CHAT["messages"])  # type: ignore[arg-type]
        assert chat.choices[0].message.content == original["chat"]
        chunks: list[Any] = list(
            oa.chat.completions.create(model="gpt-4o-mini", messages=CHAT_STREAM["messages"], stream=True)  # type: ignore[arg-type]
        )
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == original["stream"]
        m = anthropic_client(rp.url).messages.create(
            model="claude-sonnet-4-6",
            max_tokens=300,
            messages=MESSAGES["messages"],  # type: ignore[arg-type]
        )
        assert m.content[0].type == "text" and m.content[0].text == original["messages"]
