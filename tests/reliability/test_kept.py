"""A seeded answer made again within its second is written from the bytes kept of it (llmreplay/kept.py): the same
bytes the road would make, with a journal entry, metrics and log line of its own; and nothing that would make
a different answer is ever written from a kept one. What is checked is bytes and counts, never how fast."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable

import httpx
import pytest

from llmreplay import kept
from llmreplay.app import LANE
from llmreplay.journal.entry import Entry
from llmreplay.observers import Observers
from llmreplay.runtime import RUNTIME
from llmreplay.server import BackgroundServer
from tests.reliability.test_lane import BODY, NO_DELAY, _exchange, _post

SEEDED = {"server": {"quiet": True}, "latency": NO_DELAY, "synthetic": {"seed": 7}}
REQUEST_ID = re.compile(rb"x-llmreplay-request-id: ([^\r]+)")


def _hits(srv: BackgroundServer) -> int:
    assert srv.app is not None
    return srv.app[LANE].kept.hits


def _within_a_second(srv: BackgroundServer, *requests: bytes) -> list[tuple[bytes, bytes]]:
    """The answers to ``requests``, sent pipelined early in a second so that they are all answered within it
    (tried again, up to five times, where a busy machine let the second change)."""
    for _ in range(5):
        time.sleep(1 - time.time() % 1 + 0.02)
        before = int(time.time())
        answers = _exchange(srv.port, *requests)
        if int(time.time()) == before:
            return answers
    pytest.fail("five tries each crossed into the next second")


def journal_fails_after(srv: BackgroundServer, monkeypatch: pytest.MonkeyPatch, taken: int) -> Observers:
    """Make ``srv``'s journal take ``taken`` entries and then fail, as an observer may (contained and counted);
    its observers, whose failures count it."""
    assert srv.app is not None
    observers = srv.app[RUNTIME].observers
    journal = observers.journal
    assert journal is not None
    add, added = journal.add, []

    def add_some(entry: Entry) -> None:
        if len(added) == taken:
            raise RuntimeError("journal full of surprises")
        added.append(entry)
        add(entry)

    monkeypatch.setattr(journal, "add", add_some)
    return observers


def test_a_seeded_request_again_within_its_second_gets_the_same_bytes_and_its_own_journal_entry(
    make_server: Callable[..., BackgroundServer],
) -> None:
    srv = make_server(**SEEDED)
    answers = _within_a_second(srv, _post(BODY), _post(BODY), _post(BODY))
    assert _hits(srv) == 2
    ids = [REQUEST_ID.search(head).group(1) for head, _ in answers]  # type: ignore[union-attr]
    assert len(set(ids)) == 3
    first_head, first_body = answers[0]
    for head, body in answers[1:]:
        assert body == first_body
        assert REQUEST_ID.sub(b"-", head) == REQUEST_ID.sub(b"-", first_head)
    entries = httpx.get(f"{srv.url}/api/requests").json()
    assert sorted(e["id"].encode() for e in entries) == sorted(ids)
    for e in entries:
        assert (e["status"], e["source"], e["done"]) == (200, "synthetic", True)
        assert e["output_tokens"] == entries[0]["output_tokens"] > 0
        assert e["cost_usd"] == entries[0]["cost_usd"] and e["request"]["body"] == json.loads(BODY)
    metrics = httpx.get(f"{srv.url}/metrics").text
    assert re.search(r'llmreplay_requests_total\{[^}]*endpoint="chat-completions"[^}]*\} 3\.0', metrics), metrics


MESSAGES = {"model": "claude-sonnet-4", "max_tokens": 50, "messages": [{"role": "user", "content": "Hey"}]}
TOOLS = [{"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}]


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/chat/completions", BODY),
        ("/v1/messages", json.dumps(MESSAGES).encode()),
        ("/v1/completions", b'{"model": "gpt-3.5-turbo-instruct", "prompt": "Hey"}'),
        ("/v1/chat/completions", json.dumps({**json.loads(BODY), "tools": TOOLS, "tool_choice": "required"}).encode()),
    ],
)
def test_a_kept_answer_is_the_answer_the_road_makes(
    make_server: Callable[..., BackgroundServer], path: str, body: bytes
) -> None:
    srv = make_server(**SEEDED)
    (_, made), (kept_head, kept), (road_head, road) = _within_a_second(
        srv, _post(body, path), _post(body, path), _post(body, path + "?road=%31")
    )
    assert _hits(srv) == 1
    assert kept == made == road
    assert REQUEST_ID.sub(b"-", kept_head) == REQUEST_ID.sub(b"-", road_head)


def test_with_the_journal_off_a_kept_answer_carries_no_journal_id(make_server: Callable[..., BackgroundServer]) -> None:
    srv = make_server(**SEEDED, journal={"size": 0})
    answers = _within_a_second(srv, _post(BODY), _post(BODY))
    assert _hits(srv) == 1
    assert answers[0] == answers[1]
    assert b"x-llmreplay-request-id" not in answers[0][0]


def test_a_request_seeded_by_its_header_is_kept_for_that_seed_alone(
    make_server: Callable[..., BackgroundServer],
) -> None:
    srv = make_server(server={"quiet": True}, latency=NO_DELAY)
    seed7, seed8 = b"x-llmreplay-seed: 7\r\n", b"x-llmreplay-seed: 8\r\n"
    answers = _within_a_second(srv, _post(BODY, extra=seed7), _post(BODY, extra=seed7), _post(BODY, extra=seed8))
    assert _hits(srv) == 1
    assert answers[0][1] == answers[1][1] != answers[2][1]


def test_a_change_of_configuration_or_a_new_rule_is_heeded_by_the_next_answer(
    make_server: Callable[..., BackgroundServer],
) -> None:
    srv = make_server(**SEEDED)
    _within_a_second(srv, _post(BODY), _post(BODY))
    assert _hits(srv) == 1
    patched = httpx.patch(f"{srv.url}/api/config/global", json={"default_response": "Configured."})
    assert patched.status_code == 200, patched.text
    ((_, body),) = _exchange(srv.port, _post(BODY))
    assert json.loads(body)["choices"][0]["message"]["content"] == "Configured."
    rule = {"name": "scripted", "reply": {"text": "Scripted."}}
    assert httpx.put(f"{srv.url}/api/rules", json={"rules": [rule]}).status_code == 200
    ((head, body),) = _exchange(srv.port, _post(BODY))
    assert json.loads(body)["choices"][0]["message"]["content"] == "Scripted."
    assert b"x-llmreplay-source: rule:scripted#0" in head
    assert _hits(srv) == 1


@pytest.mark.parametrize(
    ("extra", "statuses"),
    [
        (b"x-llmreplay-scenario: ok,500\r\n", [200, 500]),  # a scenario steps on every request
        (b"x-llmreplay-fault: 503\r\n", [503, 503]),
    ],
)
def test_an_answer_steered_by_a_header_is_never_kept(
    make_server: Callable[..., BackgroundServer], extra: bytes, statuses: list[int]
) -> None:
    srv = make_server(**SEEDED)
    answers = _within_a_second(srv, _post(BODY, extra=extra), _post(BODY, extra=extra))
    assert [int(head.split(b" ")[1]) for head, _ in answers] == statuses
    assert _hits(srv) == 0


def test_a_prompt_long_enough_for_the_prompt_cache_is_never_kept(make_server: Callable[..., BackgroundServer]) -> None:
    srv = make_server(**SEEDED)
    long = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "word " * 2000}]}).encode()
    answers = _within_a_second(srv, _post(long), _post(long))
    cached = [json.loads(body)["usage"]["prompt_tokens_details"]["cached_tokens"] for _, body in answers]
    assert cached[0] == 0 and cached[1] > 0  # the second prompt is read from the cache, as the provider reports
    assert _hits(srv) == 0


def test_what_is_kept_within_a_second_is_bounded_in_bytes(
    make_server: Callable[..., BackgroundServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kept, "BYTES", 2 * len(_post(BODY)))  # less than one request with its answer
    srv = make_server(**SEEDED)
    answers = _within_a_second(srv, _post(BODY), _post(BODY))
    assert _hits(srv) == 0
    assert answers[0][1] == answers[1][1]  # made again, the same as before


def test_the_journal_and_metrics_are_complete_for_a_request_that_follows_in_the_same_read(
    make_server: Callable[..., BackgroundServer],
) -> None:
    # The lane tells the observers after every answer of its turn of the loop; a request read in the same turn
    # (pipelined behind the calls) is still answered after they have heard.
    srv = make_server(**SEEDED)
    look = b"GET /api/requests HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
    *calls, (_, listed) = _exchange(srv.port, _post(BODY), _post(BODY), look)
    entries = json.loads(listed)
    assert [e["id"].encode() for e in entries] == [REQUEST_ID.search(h).group(1) for h, _ in calls]  # type: ignore[union-attr]
    assert all(e["done"] and e["status"] == 200 and e["duration_ms"] is not None for e in entries)
    snapshot = httpx.get(f"{srv.url}/api/metrics").json()
    assert snapshot["totals"]["requests"] >= 2, snapshot


def test_a_responses_call_is_never_kept(make_server: Callable[..., BackgroundServer]) -> None:
    srv = make_server(**SEEDED)
    body = b'{"model": "gpt-4o", "input": "Hey"}'  # kept by the Responses store: each is a response of its own
    answers = _within_a_second(srv, _post(body, "/v1/responses"), _post(body, "/v1/responses"))
    assert [int(head.split(b" ")[1]) for head, _ in answers] == [200, 200]
    assert _hits(srv) == 0


def test_a_kept_answer_the_journal_failed_to_take_carries_no_id_header(
    make_server: Callable[..., BackgroundServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    srv = make_server(**SEEDED)
    observers = journal_fails_after(srv, monkeypatch, 1)
    (first_head, first), (head, body) = _within_a_second(srv, _post(BODY), _post(BODY))
    assert _hits(srv) == 1
    assert body == first
    assert b"x-llmreplay-request-id" not in head
    assert head == re.sub(REQUEST_ID.pattern + rb"\r\n", b"", first_head)  # that line alone is left out
    assert observers.failures >= 1
