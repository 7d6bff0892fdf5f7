"""Through a real recorder and replayer and the official SDKs: a two-turn agent conversation recorded once
replays on a run whose tool call id and timestamp differ; a field the recording lacks still matches; another
user message misses, with one line in the server log naming the cassette and the differing field; an e-mail
address is scrubbed from the cassette and the request that carries it still finds its recording."""

from __future__ import annotations

import datetime
import logging
import secrets
import string
from pathlib import Path
from typing import Any

import openai
import pytest

from llmreplay.server import BackgroundServer
from tests.conftest import settings
from tests.e2e.common import ZERO, openai_client, recorder, replayer, upstream_server

pytestmark = pytest.mark.sdk

MODEL = "gpt-4o-mini"
QUESTION = "What is the weather in Paris? Use the tool."
TOOLS: list[Any] = [
    {
        "type": "function",
        "function": {
            "name": "get_weather",
            "description": "The weather in a city",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        },
    }
]


def second_turn(call_id: str, arguments: str, when: datetime.datetime, question: str = QUESTION) -> list[Any]:
    """The app's second request: the tool call it was given (under ``call_id``) and its result, stamped."""
    return [
        {"role": "user", "content": question},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {"id": call_id, "type": "function", "function": {"name": "get_weather", "arguments": arguments}}
            ],
        },
        {
            "role": "tool",
            "tool_call_id": call_id,
            "content": f'{{"sky": "sunny", "observed_at": "{when.isoformat()}", "epoch": {int(when.timestamp())}}}',
        },
    ]


def minted_id() -> str:
    """An id as a framework mints its own (pydantic-ai does for Gemini's calls): new on every run."""
    return "call_" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24))


def test_an_agent_conversation_replays_with_new_ids_and_times(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    up = BackgroundServer(settings(latency=ZERO, synthetic={"seed": 3, "tool_call_probability": 1}))
    with up, recorder(tmp_path, up.url) as rec:
        client = openai_client(rec.url)
        first = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": QUESTION}], tools=TOOLS
        )
        (call,) = first.choices[0].message.tool_calls or []
        then = datetime.datetime.now(datetime.UTC)
        answer = client.chat.completions.create(
            model=MODEL, messages=second_turn(call.id, call.function.arguments, then), tools=TOOLS
        )
    assert answer.choices[0].message.content

    with replayer(tmp_path) as rp:
        client = openai_client(rp.url)
        again = client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": QUESTION}], tools=TOOLS
        )
        assert again.choices[0].message.tool_calls == first.choices[0].message.tool_calls
        later = then + datetime.timedelta(days=1, seconds=17)
        turn = second_turn(minted_id(), call.function.arguments, later)
        replayed = client.chat.completions.create(model=MODEL, messages=turn, tools=TOOLS)
        assert replayed.choices[0].message.content == answer.choices[0].message.content
        # A field a newer SDK sends, which the recording does not have, is ignored.
        newer = client.chat.completions.create(
            model=MODEL, messages=turn, tools=TOOLS, extra_body={"x_new_sdk_field": {"trace": minted_id()}}
        )
        assert newer.choices[0].message.content == answer.choices[0].message.content
        # Another user message is another request: a miss, said to the client and in the server's log.
        caplog.set_level(logging.WARNING, logger="llmreplay.cassettes")
        with pytest.raises(openai.BadRequestError) as err:
            client.chat.completions.create(
                model=MODEL,
                messages=second_turn(minted_id(), call.function.arguments, later, "And in Oslo?"),
                tools=TOOLS,
            )
    assert "messages.0.content" in str(err.value) and "And in Oslo?" in str(err.value)
    lines = [r.getMessage() for r in caplog.records if "cassette miss" in r.getMessage()]
    assert len(lines) == 1, lines
    assert "cassette(s) recorded" in lines[0] and "messages.0.content" in lines[0] and "recorded#1" in lines[0]


def test_an_address_is_scrubbed_from_the_cassette_and_its_request_still_matches(tmp_path: Path) -> None:
    messages: list[Any] = [{"role": "user", "content": "Draft a reply to Bob.Smith@example.com about invoice 42."}]
    with upstream_server(ZERO) as up, recorder(tmp_path, up.url) as rec:
        recorded = openai_client(rec.url).chat.completions.create(model=MODEL, messages=messages)
    held = (tmp_path / "recorded.msgpack").read_bytes()
    assert b"Bob.Smith@example.com" not in held and b"@example.com" not in held and b"REDACTED" in held
    with replayer(tmp_path) as rp:
        replayed = openai_client(rp.url).chat.completions.create(model=MODEL, messages=messages)
    assert replayed.choices[0].message.content == recorded.choices[0].message.content
