"""Cassettes for the run-time cassette tests, recorded for real: the project's synthetic server plays the
provider (its reply fixed), a recording proxy records one OpenAI SDK call into a named cassette."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openai

from llmreplay.server import BackgroundServer
from tests.conftest import settings

QUESTION = "What does the recording say?"
ZERO = {"initial_delay_ms": 0, "delay_ms": 0, "jitter_ms": 0}


def client(base_url: str, **headers: str) -> openai.OpenAI:
    """The OpenAI SDK pointed at ``base_url`` (``…/v1``), no retries, with ``headers`` on every request."""
    return openai.OpenAI(base_url=base_url, api_key="test-key", max_retries=0, default_headers=headers or None)


def ask(c: openai.OpenAI) -> tuple[str, Any]:
    """The one question every cassette here answers: the reply's text and the raw response's headers."""
    raw = c.chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=[{"role": "user", "content": QUESTION}]
    )
    return raw.parse().choices[0].message.content or "", raw.headers


def record(folder: Path, name: str, reply: str) -> Path:
    """``folder/<name>.msgpack`` holding one recording of :func:`ask` answered with ``reply``."""
    folder.mkdir(parents=True, exist_ok=True)
    upstream = settings(latency=ZERO, synthetic={"default_response": reply, "tool_call_probability": 0})
    with BackgroundServer(upstream) as up:
        cs = {"dir": str(folder), "cassette": name, "upstream": up.url, "record_mode": "all"}
        with BackgroundServer(settings(latency=ZERO, cassettes=cs)) as rec:
            assert ask(client(f"{rec.url}/v1"))[0] == reply
    return folder / f"{name}.msgpack"


def replayer(folder: Path, **cassettes: Any) -> BackgroundServer:
    """A replaying server (misses are the provider's 400) over ``folder``, to start with ``with``."""
    cs = {"dir": str(folder), "record_mode": "none", "on_miss": "error", "speed": 0, **cassettes}
    return BackgroundServer(settings(latency=ZERO, cassettes=cs))
