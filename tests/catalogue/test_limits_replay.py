"""The model's limits are enforced only where the answer is made here: a recording whose prompt the estimate
judges over the window replays (the real service accepted it), a forwarded request is the upstream's to judge,
and the synthetic source still refuses the same prompt when no recording answers it (gpt-4: 8,192 tokens)."""

from __future__ import annotations

from pathlib import Path

import openai
import pytest

from llmreplay.server import BackgroundServer
from tests.cassettes.recorded_kit import ZERO, client
from tests.conftest import settings

pytestmark = pytest.mark.sdk

LONG = "word " * 9_000
"""About 9,000 tokens, over gpt-4's 8,192-token window."""


def _ask(c: openai.OpenAI, text: str = LONG) -> str:
    r = c.chat.completions.create(model="gpt-4", messages=[{"role": "user", "content": text}])
    return r.choices[0].message.content or ""


def test_a_recording_over_the_window_replays_and_synthetic_still_refuses(tmp_path: Path) -> None:
    # The upstream here plays a real service with a wider window; the recorder (enforcing, the default)
    # forwards the call without judging it.
    upstream = settings(latency=ZERO, synthetic={"default_response": "recorded", "tool_call_probability": 0})
    upstream.models.enforce_limits = False
    with BackgroundServer(upstream) as up:
        cs = {"dir": str(tmp_path), "cassette": "long", "upstream": up.url, "record_mode": "all"}
        with BackgroundServer(settings(latency=ZERO, cassettes=cs)) as rec:
            assert _ask(client(f"{rec.url}/v1")) == "recorded"
    cs = {"dir": str(tmp_path), "record_mode": "none", "on_miss": "synthetic", "speed": 0}
    with BackgroundServer(settings(latency=ZERO, cassettes=cs)) as srv:
        c = client(f"{srv.url}/v1")
        assert _ask(c) == "recorded"
        with pytest.raises(openai.BadRequestError) as err:
            _ask(c, LONG + "unrecorded")
        assert err.value.code == "context_length_exceeded" and err.value.param == "messages"
