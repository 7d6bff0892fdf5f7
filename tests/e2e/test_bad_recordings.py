"""A recording unfit to serve is skipped at load, so a call it would have answered gets the miss (issue 19, case 18).

Before, these loaded and then failed per request: a 500 with a traceback, a dropped connection, an invalid
status line, a 100 sent as the final answer, or a wait of 10^12 seconds.
"""

from __future__ import annotations

import logging
from pathlib import Path

import openai
import pytest

from tests.cassettes.test_fields import BAD, bad_object, recording, write_cassette

from .common import replayer


def ask(url: str, n: int) -> str | None:
    client = openai.OpenAI(base_url=url + "/v1", api_key="k", max_retries=0, timeout=20)
    done = client.chat.completions.create(model="gpt-4o-mini", messages=[{"role": "user", "content": f"kind {n}"}])
    return done.id


def test_a_call_matching_only_a_bad_recording_gets_the_miss_answer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    kinds = list(BAD)
    objects = [recording(0).to_obj()]
    objects += [bad_object(n, *BAD[kind][:2]) for n, kind in enumerate(kinds, start=1)]
    path = write_cassette(tmp_path / "recorded.msgpack", objects)
    with caplog.at_level(logging.WARNING), replayer(tmp_path) as rp:
        assert ask(rp.url, 0) is None  # the good recording answers (its body is "{}")
        for n, kind in enumerate(kinds, start=1):
            with pytest.raises(openai.BadRequestError) as err:
                ask(rp.url, n)
            assert err.value.status_code == 400, kind
            assert "no recorded interaction in cassette(s) recorded matches" in str(err.value), kind
    skipped = [r.getMessage() for r in caplog.records if "skipped" in r.getMessage()]
    assert [line.split(": ")[:3] for line in skipped] == [
        ["llmreplay", str(path), f"recording #{n} skipped"] for n in range(1, len(kinds) + 1)
    ]
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
