"""The timing and retry headers take what the admin API takes (issue 19, 'every value the server accepts is
bounded'): ``x-llmreplay-gap-ms: 1e300`` once held a stream for 10^297 seconds, and
``x-llmreplay-retry-after-ms: 1e300`` asked clients to wait as long. Past the live field's bound, a header is the
provider's 400 naming it, and the server goes on answering."""

from __future__ import annotations

import logging

import httpx2
import pytest

from llmreplay.server import BackgroundServer
from llmreplay.shaping.directives import parse_headers

CHAT = "/v1/chat/completions"
STREAM = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}], "stream": True}

TOO_BIG = [
    ("ttft-ms", "1e300", "a number from 0 to 600000"),
    ("gap-ms", "600001", "a number from 0 to 600000"),
    ("jitter-ms", "inf", "a number from 0 to 600000"),
    ("gap-ms", "nan", "a number from 0 to 600000"),
    ("chunk-size", "9" * 400, "an integer from 1 to 1000000"),
    ("retry-after-ms", "1e300", "a number from 0 to 3600000"),
]


def test_the_bounds_are_the_live_fields() -> None:
    assert parse_headers({"x-llmreplay-gap-ms": "600000"}).gap_ms == 600_000
    assert parse_headers({"x-llmreplay-chunk-size": "1000000"}).chunk_size == 1_000_000
    assert parse_headers({"x-llmreplay-retry-after-ms": "3600000"}).retry_after_ms == 3_600_000


@pytest.mark.parametrize(("name", "value", "allowed"), TOO_BIG)
def test_a_header_past_its_bound_is_a_400_naming_it(
    server: BackgroundServer, name: str, value: str, allowed: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    header = "x-llmreplay-" + name
    with httpx2.Client(base_url=server.url, timeout=10) as c:
        r = c.post(CHAT, json=STREAM, headers={header: value, "x-llmreplay-status": "429"})
        assert r.status_code == 400, r.text[:300]
        error = r.json()["error"]
        assert error["param"] == header and allowed in error["message"]
        assert c.post(CHAT, json=STREAM).status_code == 200
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]
