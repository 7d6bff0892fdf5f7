"""Recording what a careless or hostile client or upstream sends (issue 19, case 17): the recording is
kept, and no byte of the key reaches the client's error or the cassette."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx2
import pytest

from .common import OPENAI_KEY, ZERO, only_cassette, recorder, upstream_server
from .test_secrets import assert_no_secret

CHAT = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}


def test_a_header_that_is_not_utf8_is_recorded_replaced_with_its_key_scrubbed(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Case 17: the recording was lost (UnicodeEncodeError) while the client had its 200."""
    headers = {
        "authorization": f"Bearer {OPENAI_KEY}",
        "x-note": b"caf\xe9",
        # A key beside a byte that is not UTF-8: the scrub still finds it.
        "x-debug": b"\xff " + OPENAI_KEY.encode(),
    }
    with caplog.at_level(logging.ERROR), upstream_server(ZERO) as up, recorder(tmp_path, up.url) as rec:
        got = httpx2.post(rec.url + "/v1/chat/completions", json=CHAT, headers=headers, timeout=20)
        assert got.status_code == 200
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    (it,) = only_cassette(tmp_path)
    recorded = dict(it.request.headers)
    assert recorded["x-note"] == "caf\ufffd"
    assert recorded["x-debug"] == "\ufffd REDACTED"
    assert_no_secret(tmp_path)
