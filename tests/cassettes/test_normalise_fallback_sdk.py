"""The looser fallback through a real server and the SDK: off, a changed system prompt is a miss; on, the
recording of the same conversation content answers and says so in its header and its journal entry."""

from __future__ import annotations

from pathlib import Path

import httpx2
import openai
import pytest

from tests.e2e.common import ZERO, openai_client, recorder, replayer, upstream_server

pytestmark = pytest.mark.sdk

MODEL = "gpt-4o-mini"


def messages(system: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": system}, {"role": "user", "content": "Name a prime number."}]


def test_the_fallback_answers_the_same_content_and_says_so(tmp_path: Path) -> None:
    with upstream_server(ZERO) as up, recorder(tmp_path, up.url) as rec:
        recorded = openai_client(rec.url).chat.completions.create(
            model=MODEL,
            messages=messages("Be terse."),
            temperature=0.2,  # type: ignore[arg-type]
        )
    changed = {"model": MODEL, "messages": messages("Be terse, and polite."), "temperature": 0.9}
    with replayer(tmp_path) as rp, pytest.raises(openai.BadRequestError):
        openai_client(rp.url).chat.completions.create(**changed)  # type: ignore[call-overload]
    with replayer(tmp_path, fallback=True) as rp:
        raw = openai_client(rp.url).chat.completions.with_raw_response.create(**changed)  # type: ignore[call-overload]
        (rid,) = raw.headers.get_list("x-llmreplay-request-id")
        entry = httpx2.get(rp.url + "/api/requests/" + rid, timeout=5).json()
        exact = openai_client(rp.url).chat.completions.with_raw_response.create(
            model=MODEL,
            messages=messages("Be terse."),
            temperature=0.2,  # type: ignore[arg-type]
        )
    assert raw.parse().choices[0].message.content == recorded.choices[0].message.content
    assert raw.headers["x-llmreplay-cassette"] == "recorded#0 fallback"
    assert entry.get("answered_by", {}).get("match") == "fallback", entry
    assert exact.headers["x-llmreplay-cassette"] == "recorded#0"  # an exact match is not a fallback
    # The llmreplay upstream's own labels were recorded; the replay carries only this server's.
    for name in ("x-llmreplay-request-id", "x-llmreplay-source", "x-llmreplay-cassette"):
        assert len(exact.headers.get_list(name)) == 1, name
    assert exact.headers["x-llmreplay-source"].startswith("cassette")
