"""``llmreplay cassettes diff A B``: requests added and removed, answers, usage and timing that changed."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

from llmreplay.cassettes import store
from llmreplay.cassettes.diff import diff
from llmreplay.cassettes.model import Interaction, RecordedEvent, RecordedRequest, RecordedResponse
from tests.cassettes.test_cli_cassettes import imported, run

EXAMPLE = Path(__file__).parents[2] / "cassettes" / "example.msgpack"


def chat(question: str, answer: str, out_tokens: int, end_us: int = 900_000) -> Interaction:
    body = json.dumps({"model": "gpt-4o-mini", "messages": [{"role": "user", "content": question}]}).encode()
    reply = {
        "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": "gpt-4o-mini",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 5, "completion_tokens": out_tokens, "total_tokens": 5 + out_tokens},
    }  # fmt: skip
    request = RecordedRequest("POST", "/v1/chat/completions", (), (("content-type", "application/json"),), body)
    response = RecordedResponse(
        200, (("content-type", "application/json"),), json.dumps(reply).encode(), None, 1, end_us
    )
    return Interaction(request, response, "openai-chat", "chat-completions", "2026-12-06T00:00:00Z")


def test_the_repository_example_against_itself_is_unchanged_exit_0() -> None:
    code, out, _ = run("diff", str(EXAMPLE), str(EXAMPLE))
    assert code == 0
    assert out.strip() == "example.msgpack -> example.msgpack: 4 same, 0 changed, 0 added, 0 removed"


def test_a_re_recording_of_the_example_with_an_answer_slower_and_one_call_fewer(tmp_path: Path) -> None:
    c = store.load(EXAMPLE)
    first = c.interactions[0]
    slower = dataclasses.replace(first, response=dataclasses.replace(first.response, end_us=first.response.end_us * 3))
    # Re-recorded in another order: pairs are found by request, not by position.
    b = tmp_path / "again.msgpack"
    store.save(b, c.header, [c.interactions[2], slower, c.interactions[1]])
    code, out, _ = run("diff", str(EXAMPLE), str(b))
    lines = out.strip().splitlines()
    assert code == 1
    assert (
        lines[0]
        == "- #3 POST /v1/models/gemini-2.5-flash:streamGenerateContent gemini-2.5-flash: only in example.msgpack"
    )
    assert lines[1] == "~ #0 POST /v1/chat/completions gpt-4o-mini (#1 in again.msgpack): duration 915 ms -> 2744 ms"
    assert lines[-1] == "example.msgpack -> again.msgpack: 2 same, 1 changed, 0 added, 1 removed"


def test_answers_usage_added_and_a_stream_apart_from_a_plain_answer() -> None:
    a = [chat("hi", "Hello there", 2), chat("bye", "Goodbye", 1)]
    b = [chat("hi", "Hi, how can I help?", 6), chat("new", "Fresh", 1)]
    found = diff(a, b)
    assert [s.index for s in found.added] == [1] and [s.index for s in found.removed] == [1]
    ((_, _, how),) = found.changed
    assert how == ["answer 'Hello there' -> 'Hi, how can I help?'", "usage 5 in / 2 out -> 5 in / 6 out"]

    # Ids and bytes that differ on every call are no change: only what a client reads counts.
    same = chat("hi", "Hello there", 2)
    other_id = dataclasses.replace(
        same, response=dataclasses.replace(same.response, body=same.response.body.replace(b"chatcmpl-1", b"chatcmpl-9"))
    )
    assert diff([same], [other_id]).empty

    stream = dataclasses.replace(
        same,
        request=dataclasses.replace(same.request, body=same.request.body[:-1] + b', "stream": true}'),
        response=RecordedResponse(200, (), None, (RecordedEvent(5, b"data: [DONE]\n\n"),), 1, 5),
    )
    found = diff([same], [stream])
    assert len(found.added) == 1 and len(found.removed) == 1


def test_cassettes_the_tests_write_and_errors(tmp_path: Path) -> None:
    a = imported(tmp_path)  # written by import-vcr
    b = tmp_path / "b.msgpack"
    shutil.copyfile(a, b)
    assert run("diff", str(a), str(b))[0] == 0
    store.save(b, store.load(a).header, [*store.load(a).interactions, chat("more", "More", 1)])
    code, out, _ = run("diff", str(a), str(b))
    assert code == 1 and "+ #2 POST /v1/chat/completions gpt-4o-mini: only in b.msgpack" in out
    code, _, err = run("diff", str(a), str(tmp_path / "nope.msgpack"))
    assert code == 2 and err.strip().count("\n") == 0 and "nope.msgpack" in err
