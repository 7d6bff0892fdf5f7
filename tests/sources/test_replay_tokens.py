"""Replayed answers count their output tokens (the recorded usage, or the synthetic estimate where none was
recorded) in /api/metrics, /metrics and the dashboard's feed, as synthetic replies do (they counted 0)."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import anthropic
import httpx
import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from llmreplay.cassettes import store
from llmreplay.cassettes.model import Interaction, RecordedEvent, RecordedRequest, RecordedResponse
from llmreplay.config import CassetteSettings
from llmreplay.runtime import RUNTIME
from llmreplay.sources import replay
from llmreplay.sources.deck import Deck
from llmreplay.sources.replay import replayed_tokens
from tests.dashboard.test_ws import _collect

EXAMPLE = Path(__file__).parents[2] / "cassettes"
QUESTION = [{"role": "user", "content": "What is llmreplay?"}]
RECORDED_OUT = 37
"""Each of the example's recordings answers with 37 output tokens (its stream without usage, by the estimate)."""


def test_each_example_recording_counts_its_tokens() -> None:
    c = store.load(EXAMPLE / "example.msgpack")
    counted = [replayed_tokens(it) for it in c.interactions]
    assert [u.output_tokens for u in counted if u is not None] == [RECORDED_OUT] * 4
    # The chat stream was recorded without include_usage: its count is the synthetic estimate of its text.
    assert counted[1] is not None and counted[1].input_tokens == 0
    assert counted[0] is not None and counted[0].input_tokens == 12


class _Clock:
    """The metrics' clock, moved by hand: the throughput (last full second) is read without waiting on time."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def test_replayed_answers_count_in_api_metrics_prometheus_and_dashboard(make_server) -> None:
    srv = make_server(cassettes={"dir": str(EXAMPLE), "speed": 0})
    metrics = srv.app[RUNTIME].metrics
    clock = _Clock(metrics._t0 + 0.5)  # within the first second of the series
    metrics._clock = clock
    ws_url = srv.url.replace("http", "ws") + "/ws"

    def ended(got: list[dict]) -> bool:
        return sum(e["kind"] == "request.end" for m in got if m["type"] == "events" for e in m["events"]) >= 3

    async def scenario() -> list[dict]:
        connected = asyncio.Event()
        task = asyncio.create_task(_collect(ws_url, ended, connected=connected))
        await asyncio.wait_for(connected.wait(), 20)
        await asyncio.to_thread(_calls, srv.url)
        return await task

    got = asyncio.run(scenario())
    ends = [e for m in got if m["type"] == "events" for e in m["events"] if e["kind"] == "request.end"]
    assert [e["output_tokens"] for e in ends] == [RECORDED_OUT] * 3

    clock.t += 1.0  # the second the three finished in is now the last full one: the dashboard's throughput
    api = httpx.get(srv.url + "/api/metrics").json()
    assert api["totals"]["output_tokens"] == 3 * RECORDED_OUT
    assert api["totals"]["output_tokens_per_s"] == 3 * RECORDED_OUT
    assert api["endpoints"]["chat-completions"]["output_tokens"] == 2 * RECORDED_OUT
    assert api["endpoints"]["messages"]["output_tokens"] == RECORDED_OUT

    families = text_string_to_metric_families(httpx.get(srv.url + "/metrics").text)
    out = {
        s.labels["endpoint"]: s.value
        for f in families
        if f.name == "llmreplay_output_tokens"
        for s in f.samples
        if s.name == "llmreplay_output_tokens_total"
    }
    assert out == {"chat-completions": 2 * RECORDED_OUT, "messages": RECORDED_OUT}


def _calls(url: str) -> None:
    oa = openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0)
    reply = oa.chat.completions.create(model="gpt-4o-mini", messages=QUESTION)
    assert reply.usage is not None and reply.usage.completion_tokens == RECORDED_OUT
    stream = oa.chat.completions.create(model="gpt-4o-mini", messages=QUESTION, stream=True)
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices).startswith("llmreplay")
    an = anthropic.Anthropic(base_url=url, api_key="k", max_retries=0)
    with an.messages.stream(model="claude-sonnet-4-6", max_tokens=256, messages=QUESTION) as s:
        assert s.get_final_message().usage.output_tokens == RECORDED_OUT


def _long_stream(with_usage: bool) -> Interaction:
    events = []
    for i in range(500):
        chunk = {"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o",
                 "choices": [{"index": 0, "delta": {"content": f"word{i} "}, "finish_reason": None}]}  # fmt: skip
        events.append(RecordedEvent(i * 1000, f"data: {json.dumps(chunk)}\n\n".encode()))
    if with_usage:
        usage = {"prompt_tokens": 3, "completion_tokens": 512, "total_tokens": 515}
        last = {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "gpt-4o",
            "choices": [],
            "usage": usage,
        }
        events.append(RecordedEvent(599_000, f"data: {json.dumps(last)}\n\n".encode()))
    events.append(RecordedEvent(600_000, b"data: [DONE]\n\n"))
    request = RecordedRequest("POST", "/v1/chat/completions", body=b'{"model":"gpt-4o","stream":true,"messages":[]}')
    response = RecordedResponse(200, (("content-type", "text/event-stream"),), None, tuple(events), 0, 600_000)
    return Interaction(request, response, "openai-chat", "chat-completions")


def test_a_long_stream_counts_its_recorded_usage_else_the_estimate_of_its_text() -> None:
    counted = replayed_tokens(_long_stream(with_usage=True))
    assert counted is not None and (counted.input_tokens, counted.output_tokens) == (3, 512)  # as recorded
    counted = replayed_tokens(_long_stream(with_usage=False))
    assert counted is not None and counted.output_tokens == 500  # "word{i} " is one token each


def test_a_small_cassettes_streams_are_counted_as_the_server_starts_not_as_each_replay_ends(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.save(tmp_path / "long.msgpack", store.new_header("u"), [_long_stream(with_usage=False)])
    deck = Deck(CassetteSettings(dir=str(tmp_path)))
    (it,) = deck.catalog.all.recordings()

    def parsed(it: Interaction) -> None:
        raise AssertionError("a replay's end parsed its whole stream to count it")

    monkeypatch.setattr(replay, "reply_of", parsed)
    counted = replayed_tokens(it)
    assert counted is not None and counted.output_tokens == 500


def test_streams_not_decoded_yet_are_counted_when_replayed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "EAGER_FILE_MAX", 0)  # a large cassette: its events wait until played
    store.save(tmp_path / "long.msgpack", store.new_header("u"), [_long_stream(with_usage=False)])
    assert replay.warm_tokens(store.load(tmp_path / "long.msgpack").interactions) == 0
