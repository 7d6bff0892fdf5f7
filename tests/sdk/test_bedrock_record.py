"""Bedrock calls recorded through llmreplay with another llmreplay as the upstream, then replayed: the same
event-stream bytes, one recorded event per binary message, and no AWS signature in the cassette."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llmreplay.cassettes.model import Interaction
from tests.e2e.common import only_cassette, recorder, replayer, upstream_server

from .bedrock import MODEL, bedrock

pytestmark = pytest.mark.sdk

USER = [{"role": "user", "content": [{"text": "Hello there"}]}]
INVOKE = json.dumps(
    {"anthropic_version": "bedrock-2023-05-31", "max_tokens": 200, "messages": [{"role": "user", "content": "Hi"}]}
)


TOKEN = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"


def calls(url: str) -> dict[str, Any]:
    c = bedrock(url, session_token=TOKEN)
    return {
        "converse": c.converse(modelId=MODEL, messages=USER)["output"],
        "converse-stream": list(c.converse_stream(modelId=MODEL, messages=USER)["stream"]),
        "invoke": json.loads(c.invoke_model(modelId=MODEL, body=INVOKE)["body"].read())["content"],
        "invoke-stream": [
            json.loads(e["chunk"]["bytes"])
            for e in c.invoke_model_with_response_stream(modelId=MODEL, body=INVOKE)["body"]
        ],
    }


def test_record_then_replay_gives_the_same_answers(tmp_path: Path):
    with upstream_server() as up, recorder(tmp_path, up.url) as rec:
        live = calls(rec.url)
    interactions: list[Interaction] = only_cassette(tmp_path)
    assert sorted(it.endpoint for it in interactions) == [
        "bedrock-converse",
        "bedrock-converse",
        "bedrock-invoke",
        "bedrock-invoke",
    ]
    for it in interactions:
        recorded = json.dumps([list(h) for h in it.request.headers])
        assert "Signature=" not in recorded and "AKIDEXAMPLE" not in recorded and TOKEN not in recorded, recorded
    streamed = [it for it in interactions if it.request.path.endswith("-stream")]
    for it in streamed:
        # one recorded event per binary message: a replay paces them as the upstream did
        assert all(e.data[:4] == len(e.data).to_bytes(4, "big") for e in it.response.events)
    assert TOKEN.encode() not in b"".join(p.read_bytes() for p in tmp_path.rglob("*") if p.is_file())
    with replayer(tmp_path, speed=0) as rep:
        assert calls(rep.url) == live
