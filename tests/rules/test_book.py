"""Which rule answers, and with which step: order, sequences, limits, test ids, counts."""

from __future__ import annotations

import pytest

from llmreplay.rules import parse_rules
from tests.rules.helpers import PATHS, answered, book, chat, exchange, user


def _ex(text: str = "hi", test_id: str | None = None):
    return exchange(PATHS["openai-chat"], chat(user(text)), test_id=test_id)


def _steps(b, n: int, test_id: str | None = None) -> list:
    out = []
    for _ in range(n):
        hit = b.match(_ex(test_id=test_id))
        out.append(None if hit is None else (hit.rule, hit.step))
        if hit is not None:
            hit.take()
    return out


def test_first_match_wins_in_file_order():
    b = book({"name": "a", "match": {"last_user": "x"}, "reply": {"text": "a"}}, {"name": "b", "reply": {"text": "b"}})
    assert answered(b, _ex("x")) == "a"
    assert answered(b, _ex("y")) == "b"


@pytest.mark.parametrize(
    ("then", "expected"),
    [
        ("repeat-last", [0, 1, 2, 2, 2]),
        ("cycle", [0, 1, 2, 0, 1]),
        ("stop", [0, 1, 2, None, None]),
    ],
)
def test_steps_then(then, expected):
    b = book({"name": "s", "steps": [{"text": "1"}, {"text": "2"}, {"text": "3"}], "then": then})
    assert [s[1] if s else None for s in _steps(b, 5)] == expected


def test_times_and_once_then_the_next_rule():
    b = book(
        {"name": "twice", "times": 2, "reply": {"text": "a"}},
        {"name": "once", "once": True, "reply": {"text": "b"}},
        {"name": "rest", "reply": {"text": "c"}},
    )
    assert [s[0] for s in _steps(b, 5)] == ["twice", "twice", "once", "rest", "rest"]


def test_times_bounds_a_cycle():
    b = book({"name": "c", "steps": [{"text": "1"}, {"text": "2"}], "then": "cycle", "times": 3})
    assert _steps(b, 4) == [("c", 0), ("c", 1), ("c", 0), None]


def test_matching_uses_nothing_up_until_taken():
    b = book({"name": "o", "once": True, "reply": {"text": "a"}})
    assert b.match(_ex()) is not None
    assert b.match(_ex()) is not None
    hit = b.match(_ex())
    hit.take()
    hit.take()  # a second take counts nothing
    assert b.match(_ex()) is None
    assert b.listing()[0]["matches"] == 1


def test_added_rules_go_first():
    b = book({"name": "file", "reply": {"text": "a"}})
    b.add(parse_rules([{"name": "runtime", "reply": {"text": "b"}}]))
    assert answered(b, _ex()) == "runtime"
    assert [r["name"] for r in b.listing()] == ["runtime", "file"]


def test_test_rules_come_first_and_only_for_their_test():
    b = book({"name": "global", "reply": {"text": "g"}})
    b.add(parse_rules([{"name": "mine", "reply": {"text": "t"}}]), test_id="t1")
    assert answered(b, _ex(test_id="t1")) == "mine"
    assert answered(b, _ex(test_id="t2")) == "global"
    assert answered(b, _ex()) == "global"
    assert [(r["name"], r["test_id"]) for r in b.listing("t1")] == [("mine", "t1"), ("global", None)]
    b.clear("t1")
    assert answered(b, _ex(test_id="t1")) == "global"


def test_counts_are_per_test_id():
    b = book({"name": "s", "steps": [{"text": "1"}, {"text": "2"}], "then": "stop"})
    assert _steps(b, 3, "a") == [("s", 0), ("s", 1), None]
    assert _steps(b, 1, "b") == [("s", 0)]
    assert b.listing("a")[0]["matches"] == 2
    assert b.listing()[0]["matches"] == 3
    b.reset("a")
    assert _steps(b, 1, "a") == [("s", 0)]
    assert _steps(b, 1, "b") == [("s", 1)]
    b.reset()
    assert _steps(b, 1, "b") == [("s", 0)]


def test_replace_and_clear():
    b = book({"name": "a", "reply": {"text": "a"}})
    b.add(parse_rules([{"name": "t", "reply": {"text": "t"}}]), test_id="x")
    b.replace(parse_rules([{"name": "b", "reply": {"text": "b"}}]))
    assert [r["name"] for r in b.listing()] == ["b", "t"]
    b.clear()
    assert b.listing() == [] and len(b) == 0
    assert b.match(_ex()) is None


def test_hit_carries_outcome_and_latency():
    b = book(
        {"name": "slow", "reply": {"text": "a", "outcome": "disconnect@5", "latency": {"ttft_ms": 0, "chunk_size": 3}}}
    )
    hit = b.match(_ex())
    assert hit.outcome is not None and hit.outcome.kind == "disconnect"
    assert dict(hit.latency) == {"initial_delay_ms": 0, "chunk_size": 3}
    assert hit.has_reply


def test_outcome_alone_has_no_reply_of_its_own():
    hit = book({"name": "f", "reply": {"outcome": 429}}).match(_ex())
    assert hit.outcome.status == 429 and not hit.has_reply


def test_listing_shows_the_rule_as_given_with_its_name():
    b = book({"match": {"model": "gpt-*"}, "reply": {"text": "a"}, "times": 2})
    [entry] = b.listing()
    assert entry == {
        "name": "rule-0",
        "test_id": None,
        "matches": 0,
        "rule": {"name": "rule-0", "match": {"model": {"glob": "gpt-*"}}, "reply": {"text": "a"}, "times": 2},
    }
    # What is listed parses back to the same rule (how other processes get it).
    assert parse_rules([entry["rule"]])[0].spec == b.rules()[0].spec.model_copy(update={"name": "rule-0"})


def test_shared_sets_are_taken_whole():
    b = book({"name": "a", "reply": {"text": "a"}})
    other = book({"name": "x", "reply": {"text": "x"}})
    b.take_shared("u", other.docs())
    assert [(r["name"], r["test_id"]) for r in b.listing()] == [("a", None), ("x", "u")]
    b.take_shared(None, [])
    b.take_shared("u", [{"reply": {"nope": 1}}])  # does not load here: left out, nothing changes
    assert [r["name"] for r in b.listing()] == ["x"]
    b.take_shared(None, None)
    assert len(b) == 0
