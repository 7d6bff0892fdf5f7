"""A key inside a streamed answer, split across its events, never reaches the cassette (issue 19, case 20),
and the recording still replays: the same events, the text with the key replaced."""

from __future__ import annotations

from pathlib import Path

import pytest

from llmreplay.server import BackgroundServer
from tests.conftest import settings

from .common import OPENAI_KEY, SDK_CALLS, SEED, ZERO, only_cassette, recorder, replayer, text_of
from .test_secrets import windows

pytestmark = pytest.mark.sdk

REPLY = f"Your key is {OPENAI_KEY} so keep it safe."


def test_a_key_split_across_stream_events_is_scrubbed_and_the_stream_replays(tmp_path: Path) -> None:
    # The synthetic upstream streams ten characters an event (its default), so every API splits the key.
    synthetic = {"seed": SEED, "default_response": REPLY, "tool_call_probability": 0}
    with BackgroundServer(settings(latency=ZERO, synthetic=synthetic)) as up, recorder(tmp_path, up.url) as rec:
        live = {api: text_of(api, call(rec.url, True)) for api, call in SDK_CALLS.items()}
    assert all(text == REPLY for text in live.values())
    its = only_cassette(tmp_path)
    assert len(its) == len(SDK_CALLS) and all(it.response.events for it in its)
    raw = (tmp_path / "recorded.msgpack").read_bytes()
    assert not [w for w in windows(OPENAI_KEY, 6) if w in raw]
    # Every event keeps its place and time: as many as the upstream sent, none moved.
    for it in its:
        events = it.response.events or ()
        assert len(events) >= len(REPLY) // 10
        assert [e.at_us for e in events] == sorted(e.at_us for e in events)
    with replayer(tmp_path) as rep:
        for api, call in SDK_CALLS.items():
            assert text_of(api, call(rep.url, True)) == REPLY.replace(OPENAI_KEY, "REDACTED"), api
