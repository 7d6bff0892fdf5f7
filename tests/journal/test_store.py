"""The journal's ring: bounded, O(1) on the data path, listeners contained, filters."""

from __future__ import annotations

import logging

import pytest

from llmreplay.journal import Entry, Filter, Journal
from tests.journal.entries import T0, call, entry


def filled(n: int, size: int = 100, **kw: object) -> Journal:
    j = Journal(size, 1024)
    for i in range(n):
        j.add(entry(i, **kw))  # type: ignore[arg-type]
    return j


def test_keeps_the_newest_size_entries_oldest_first() -> None:
    j = filled(5, size=3)
    assert len(j) == 3
    assert [e.id for e in j.select()] == [entry(i).id for i in (2, 3, 4)]
    assert j.entry(entry(1).id) is None and j.get(entry(1).id) is None
    assert j.get(entry(4).id)["id"] == entry(4).id  # type: ignore[index]


def test_size_zero_keeps_nothing_and_tells_no_one() -> None:
    j = Journal(0, 1024)
    heard: list[Entry] = []
    j.listeners.append(heard.append)
    e = entry(1, done=False)
    j.add(e)
    j.finished(e)
    assert len(j) == 0 and heard == [] and j.find() == []


def test_a_long_body_is_kept_cut_and_shown_so() -> None:
    j = Journal(10, 16)
    e = entry(1, call=call(b"x" * 100))
    j.add(e)
    assert e.call.body == b"x" * 16 and e.body_cut
    shown = j.get(e.id)
    assert shown is not None
    assert shown["request"]["body"] == "x" * 16 and shown["request"]["truncated"] is True
    short = entry(2, call=call(b"{}"))
    j.add(short)
    assert j.get(short.id)["request"]["truncated"] is False  # type: ignore[index]


def test_finished_marks_done_and_tells_each_listener_once_per_call() -> None:
    j = Journal(10, 1024)
    heard: list[str] = []
    j.listeners.append(lambda e: heard.append("a:" + e.id))
    j.listeners.append(lambda e: heard.append("b:" + e.id))
    e = entry(1, done=False)
    j.add(e)
    assert j.get(e.id)["done"] is False  # type: ignore[index]
    j.finished(e)
    assert e.done and heard == ["a:" + e.id, "b:" + e.id]


def test_a_failing_listener_is_logged_once_and_the_others_still_hear(caplog: pytest.LogCaptureFixture) -> None:
    j = Journal(10, 1024)
    heard: list[Entry] = []

    def broken(e: Entry) -> None:
        raise RuntimeError("boom")

    j.listeners += [broken, heard.append]
    with caplog.at_level(logging.ERROR, "llmreplay.journal"):
        for i in range(3):
            e = entry(i, done=False)
            j.add(e)
            j.finished(e)
    assert len(heard) == 3 and j.failures == 3
    assert len([r for r in caplog.records if "journal listener failed" in r.message]) == 1


def test_filters_each_and_together() -> None:
    j = Journal(100, 1024)
    j.add(entry(1, test_id="a", endpoint="chat-completions", model="gpt-4o", source="synthetic"))
    j.add(entry(2, test_id="b", endpoint="messages", model="claude", source="rule"))
    j.add(entry(3, test_id="a", endpoint="messages", model="claude", source="cassette"))
    j.add(entry(4, test_id=None, endpoint="chat-completions", model="gpt-4o", source=None))

    def ids(**kw: object) -> list[int]:
        return [int(d["id"][4:], 16) for d in j.find(**kw)]  # type: ignore[arg-type]

    assert ids() == [1, 2, 3, 4]
    assert ids(test_id="a") == [1, 3]
    assert ids(endpoint="messages") == [2, 3]
    assert ids(model="gpt-4o") == [1, 4]
    assert ids(source="rule") == [2]
    assert ids(since=T0 + 3) == [3, 4]
    assert ids(limit=2) == [3, 4]
    assert ids(limit=0) == []
    assert ids(test_id="a", endpoint="messages") == [3]
    assert ids(test_id="a", limit=1) == [3]
    assert Filter(limit=5).last([1, 2]) == [1, 2]


def test_clear_everything_or_one_test() -> None:
    j = Journal(100, 1024)
    for i, t in enumerate(["a", "b", "a", None]):
        j.add(entry(i, test_id=t))
    assert j.clear("a") == 2
    assert [e.test_id for e in j.select()] == ["b", None]
    assert j.clear("nope") == 0
    assert j.clear() == 2 and len(j) == 0


def test_a_cleared_entry_still_finishing_is_harmless() -> None:
    j = Journal(10, 1024)
    e = entry(1, done=False)
    j.add(e)
    j.clear()
    j.finished(e)
    assert e.done and len(j) == 0
