"""Observers run contained: one that fails is logged once and never breaks or holds up an answer."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from llmreplay.app import create_app
from llmreplay.runtime import RUNTIME

from .conftest import settings

CHAT = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}


def _broken(*args: Any, **kwargs: Any) -> None:
    raise RuntimeError("observer bug")


@pytest.mark.parametrize("stream", [False, True])
async def test_a_failing_observer_never_touches_the_answer(
    aiohttp_client: Any, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, stream: bool
) -> None:
    app = create_app(settings())
    rt = app[RUNTIME]
    monkeypatch.setattr(rt.metrics, "answered", _broken)
    monkeypatch.setattr(rt.metrics, "started", _broken)
    monkeypatch.setattr(rt.events, "publish", _broken)
    # As if a dashboard were connected: with none, the events are not worded at all.
    monkeypatch.setattr(rt.events, "clients", 1)
    client = await aiohttp_client(app)
    caplog.set_level(logging.ERROR, "llmreplay.observers")
    for _ in range(3):
        r = await client.post("/v1/chat/completions", json={**CHAT, "stream": stream})
        body = await r.read()
        assert r.status == 200
        assert body.endswith(b"data: [DONE]\n\n") if stream else b'"chat.completion"' in body
    # Once per observer and hook, with its traceback; the rest only counted.
    logged = [rec for rec in caplog.records if rec.name == "llmreplay.observers"]
    assert [rec.exc_info is not None for rec in logged] == [True, True]
    # Per request: the metrics at the start and the end, the events at the start and the end.
    assert rt.observers.failures == 3 * 4
