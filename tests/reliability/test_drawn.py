"""An unseeded answer made again within its second is drawn into the bytes of one made before, cut where the draws
go (llmreplay/drawn.py): a new draw every time, byte for byte what the road makes of the same draws, with a
journal entry, metrics and cost of its own; and a request whose other answers could differ in more than the draws
is made afresh every time. What is checked is bytes and counts, never how fast."""

from __future__ import annotations

import json
import random
import re
import time
from collections.abc import Callable

import httpx
import pytest

from llmreplay import drawn
from llmreplay.runtime import RUNTIME
from llmreplay.server import BackgroundServer
from tests.reliability.test_kept import REQUEST_ID, _hits, _within_a_second, journal_fails_after
from tests.reliability.test_lane import BODY, GEMINI, NO_DELAY, _exchange, _post

UNSEEDED = {"server": {"quiet": True}, "latency": NO_DELAY}
LONG_ENOUGH = json.dumps({**json.loads(BODY), "max_tokens": 4096}).encode()
COMPLETION = b'{"model": "gpt-3.5-turbo-instruct", "prompt": "Hey", "max_tokens": 1000}'
MESSAGES = json.dumps({"model": "claude-sonnet-4", "max_tokens": 50, "messages": [{"role": "user", "content": "Hey"}]})
MESSAGES_LONG_ENOUGH = json.dumps({**json.loads(MESSAGES), "max_tokens": 1024}).encode()
ANTHROPIC_REQUEST_ID = re.compile(rb"\r\nrequest-id: (req_011C[1-9A-HJ-NP-Za-km-z]{20})\r\n")


def _reply_id(doc: dict[str, str]) -> str:
    return doc.get("id") or doc["responseId"]  # Gemini names it so


def _content(body: bytes) -> str:
    return str(json.loads(body)["choices"][0]["message"]["content"])


def test_an_unseeded_request_again_is_a_new_draw_each_time_with_its_own_entry(
    make_server: Callable[..., BackgroundServer],
) -> None:
    srv = make_server(**UNSEEDED)
    answers = _within_a_second(srv, *[_post(BODY)] * 40)
    assert _hits(srv) == 38  # the first is made, the second made and cut, the rest drawn into the cut
    bodies = [json.loads(body) for _, body in answers]
    assert len({b["id"] for b in bodies}) == 40
    assert len({_content(body) for _, body in answers}) > 1  # 40 draws from a pool of a dozen texts and lorem
    ids = [REQUEST_ID.search(head).group(1).decode() for head, _ in answers]  # type: ignore[union-attr]
    assert len(set(ids)) == 40
    for (head, raw), body, rid in zip(answers, bodies, ids, strict=True):
        assert int(re.search(rb"Content-Length: (\d+)", head).group(1)) == len(raw)  # type: ignore[union-attr]
        usage = body["usage"]
        assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
        entry = httpx.get(f"{srv.url}/api/requests/{rid}").json()
        assert (entry["status"], entry["source"], entry["done"]) == (200, "synthetic", True)
        assert entry["reply"]["text"] == body["choices"][0]["message"]["content"]
        assert entry["output_tokens"] == entry["reply"]["usage"]["output_tokens"] == usage["completion_tokens"]
    metrics = httpx.get(f"{srv.url}/metrics").text
    assert re.search(r'llmreplay_requests_total\{[^}]*endpoint="chat-completions"[^}]*\} 40\.0', metrics), metrics
    produced = sum(b["usage"]["completion_tokens"] for b in bodies)
    assert re.search(rf"llmreplay_output_tokens_total\{{[^}}]*\}} {produced}\.0", metrics), metrics


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/completions", BODY),
        ("/v1/chat/completions", LONG_ENOUGH),
        ("/v1/completions", COMPLETION),
        ("/v1/messages", MESSAGES_LONG_ENOUGH),  # its request-id header is the request id in base 58
        ("/v1beta/models/gemini-2.0-flash:generateContent", GEMINI),  # a path with the model in it
        ("/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21", BODY),  # Azure's, with a query
        ("/openai/deployments/gpt-35-turbo-instruct/completions?api-version=2024-10-21", COMPLETION),
    ],
)
def test_a_drawn_answer_is_what_the_road_makes_of_the_same_draws(
    make_server: Callable[..., BackgroundServer], path: str, body: bytes
) -> None:
    srv = make_server(**UNSEEDED)
    assert srv.app is not None
    generator = srv.app[RUNTIME].unseeded
    for _ in range(5):
        time.sleep(1 - time.time() % 1 + 0.02)
        before, hits = int(time.time()), _hits(srv)
        _exchange(srv.port, _post(body, path), _post(body, path))  # made, then made again and cut
        generator.seed(5)
        ((drawn_head, drawn_body),) = _exchange(srv.port, _post(body, path))
        generator.seed(5)
        # The lane leaves an escaped query to aiohttp.
        sep = "&" if "?" in path else "?"
        ((road_head, road_body),) = _exchange(srv.port, _post(body, path + sep + "road=%31"))
        if int(time.time()) == before:
            break
    else:
        pytest.fail("five tries each crossed into the next second")
    assert _hits(srv) == hits + 1
    assert drawn_body == road_body
    assert REQUEST_ID.sub(b"-", drawn_head) == REQUEST_ID.sub(b"-", road_head)


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/messages", MESSAGES.encode()),  # a text may be cut (max_tokens 50)
        ("/v1beta/models/gemini-2.5-flash:generateContent", GEMINI),  # it thinks unasked: its reasoning is drawn
        ("/v1/chat/completions", json.dumps({**json.loads(BODY), "max_tokens": 5}).encode()),  # a text may be cut
        ("/v1/chat/completions", json.dumps({**json.loads(BODY), "stop": ["e"]}).encode()),
        ("/v1/chat/completions", json.dumps({**json.loads(BODY), "n": 2}).encode()),
        ("/v1/chat/completions", json.dumps({**json.loads(BODY), "response_format": {"type": "json_object"}}).encode()),
    ],
)
def test_a_request_whose_answers_differ_in_more_than_the_draws_is_made_afresh_every_time(
    make_server: Callable[..., BackgroundServer], path: str, body: bytes
) -> None:
    srv = make_server(**UNSEEDED)
    answers = _within_a_second(srv, *[_post(body, path)] * 4)
    assert [int(head.split(b" ")[1]) for head, _ in answers] == [200] * 4
    assert _hits(srv) == 0
    assert len({_reply_id(json.loads(body)) for _, body in answers}) == 4


def test_with_the_journal_off_a_drawn_answer_carries_no_journal_id(
    make_server: Callable[..., BackgroundServer],
) -> None:
    srv = make_server(**UNSEEDED, journal={"size": 0})
    answers = _within_a_second(srv, *[_post(BODY)] * 3)
    assert _hits(srv) == 1
    assert not any(b"x-llmreplay-request-id" in head for head, _ in answers)
    assert len({json.loads(body)["id"] for _, body in answers}) == 3


def test_a_drawn_answer_the_journal_failed_to_take_carries_no_id_header(
    make_server: Callable[..., BackgroundServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    srv = make_server(**UNSEEDED)
    observers = journal_fails_after(srv, monkeypatch, 2)
    (first_head, _), _, (head, body) = _within_a_second(srv, *[_post(BODY)] * 3)
    assert _hits(srv) == 1
    assert b"x-llmreplay-request-id" not in head
    drawn = re.compile(rb"Content-Length: \d+|req_[0-9a-f]{32}")  # the length and x-request-id are drawn
    assert drawn.sub(b"", head) == drawn.sub(b"", re.sub(REQUEST_ID.pattern + rb"\r\n", b"", first_head))
    assert int(re.search(rb"Content-Length: (\d+)", head).group(1)) == len(body)  # type: ignore[union-attr]
    assert observers.failures >= 1


def test_a_change_of_configuration_is_heeded_by_the_next_drawn_answer(
    make_server: Callable[..., BackgroundServer],
) -> None:
    srv = make_server(**UNSEEDED)
    _within_a_second(srv, *[_post(BODY)] * 3)
    assert _hits(srv) == 1
    patched = httpx.patch(f"{srv.url}/api/config/global", json={"default_response": "Configured."})
    assert patched.status_code == 200, patched.text
    answers = _within_a_second(srv, *[_post(BODY)] * 3)
    assert [_content(body) for _, body in answers] == ["Configured."] * 3
    assert _hits(srv) == 2
    assert len({json.loads(body)["id"] for _, body in answers}) == 3


def test_the_generator_is_read_at_every_draw(make_server: Callable[..., BackgroundServer]) -> None:
    # The runtime's one unseeded generator is the drawn answers' too: the same state, the same draws.
    srv = make_server(**UNSEEDED)
    assert srv.app is not None
    generator = srv.app[RUNTIME].unseeded
    state = random.Random(11).getstate()
    for _ in range(5):
        time.sleep(1 - time.time() % 1 + 0.02)
        before = int(time.time())
        _exchange(srv.port, _post(BODY), _post(BODY))
        generator.setstate(state)
        first = _exchange(srv.port, _post(BODY), _post(BODY))
        generator.setstate(state)
        again = _exchange(srv.port, _post(BODY), _post(BODY))
        if int(time.time()) == before:
            break
    else:
        pytest.fail("five tries each crossed into the next second")
    assert [body for _, body in first] == [body for _, body in again]
    assert first[0][1] != first[1][1]


def test_a_cut_that_fails_leaves_every_answer_made_whole(
    make_server: Callable[..., BackgroundServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object) -> None:
        raise RuntimeError("a codec the cut cannot read")

    monkeypatch.setattr(drawn, "cut", broken)
    srv = make_server(**UNSEEDED)
    answers = _within_a_second(srv, *[_post(BODY)] * 4)
    assert [int(head.split(b" ")[1]) for head, _ in answers] == [200] * 4
    assert _hits(srv) == 0
    assert len({json.loads(body)["id"] for _, body in answers}) == 4


def test_an_unseeded_message_again_is_a_new_draw_with_a_request_id_of_its_own(
    make_server: Callable[..., BackgroundServer],
) -> None:
    # Anthropic writes the request id in base 58 (its request-id header): each drawn answer has its own, as made
    # from its own request id, and the journal id beside it.
    srv = make_server(**UNSEEDED)
    answers = _within_a_second(srv, *[_post(MESSAGES_LONG_ENOUGH, "/v1/messages")] * 20)
    assert _hits(srv) == 18
    forms = [ANTHROPIC_REQUEST_ID.search(head).group(1) for head, _ in answers]  # type: ignore[union-attr]
    assert len(set(forms)) == 20
    assert len({json.loads(body)["id"] for _, body in answers}) == 20
    for head, body in answers:
        rid = REQUEST_ID.search(head).group(1).decode()  # type: ignore[union-attr]
        entry = httpx.get(f"{srv.url}/api/requests/{rid}").json()
        assert entry["reply"]["text"] == json.loads(body)["content"][0]["text"]
        assert int(re.search(rb"Content-Length: (\d+)", head).group(1)) == len(body)  # type: ignore[union-attr]
