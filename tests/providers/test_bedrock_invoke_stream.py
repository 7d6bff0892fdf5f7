"""Bedrock's InvokeModel stream, rendered straight from Anthropic's event data (no SSE in between), as botocore
reads it: the events Anthropic's SSE stream carries, in order, without ``ping``, the last with Bedrock's metrics."""

from __future__ import annotations

import json

import pytest

from llmreplay.model import Candidate, Reply, Text, Thinking, ToolCall, Usage
from llmreplay.providers import anthropic_stream, bedrock_invoke
from llmreplay.sse import parse_sse
from tests.test_eventstream import _stream

_INVOKE = ("InvokeModelWithResponseStream", "body")
REPLIES = {
    "text": (Text("Hello there, é ✓ and more words."),),
    "thinking and a tool": (Thinking("weighing it", "sig"), ToolCall("toolu_1", "get_weather", '{"city": "Paris"}')),
    "nothing": (),
}


@pytest.mark.parametrize("parts", REPLIES.values(), ids=list(REPLIES))
def test_the_chunks_carry_anthropics_events(parts: tuple) -> None:
    reply = Reply(id="r1", model="m", created=0, candidates=(Candidate(parts),), usage=Usage(12, 34))
    sse = b"".join(f.data for f in anthropic_stream.render_frames(reply, 5))
    expected = [json.loads(e.data) for e in parse_sse(sse) if e.event != "ping"]
    frames = bedrock_invoke.render_frames(reply, 5)
    got = [json.loads(e["chunk"]["bytes"]) for e in _stream(b"".join(f.data for f in frames), *_INVOKE)]
    metrics = got[-1].pop("amazon-bedrock-invocationMetrics")
    assert got == expected
    assert metrics["inputTokenCount"] == 12 and metrics["outputTokenCount"] == 34
    # Content pieces are paced as the SSE stream paces them.
    assert [f.paced for f in frames] == [f.paced for f in anthropic_stream.render_frames(reply, 5, ping=None)]
