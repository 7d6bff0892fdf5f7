"""Rules over several requests, through each official SDK, streamed and not: steps in turn (then repeat the last,
cycle, or stop matching), ``times`` and ``once``, which rule is asked first, and rules scoped to one test."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.rules.sdk.common import CUT, PATHS, Ask, Got, journal, post_rules, put_rules, status_of
from tests.rules.sdk.drive import ask

pytestmark = pytest.mark.sdk

STEPS = [{"text": "one"}, {"text": "two"}, {"text": "three"}]


def _texts(url: str, api: str, stream: bool, n: int, a: Ask | None = None) -> list[str]:
    """What ``n`` requests in a row got: a rule's text, or ``synthetic``."""
    out = []
    for _ in range(n):
        got = ask(url, api, stream, a or Ask())
        out.append(got.text if got.source and got.source.startswith("rule:") else "synthetic")
    return out


def _sources(url: str, api: str, stream: bool, n: int, a: Ask | None = None) -> list[str | None]:
    return [ask(url, api, stream, a or Ask()).source for _ in range(n)]


@pytest.mark.parametrize(
    ("then", "expected"),
    [
        ("repeat-last", ["one", "two", "three", "three", "three"]),
        ("cycle", ["one", "two", "three", "one", "two"]),
        ("stop", ["one", "two", "three", "synthetic", "synthetic"]),
    ],
)
def test_steps_in_turn_then(url: str, case: tuple[str, bool], then: str, expected: list[str]) -> None:
    api, stream = case
    put_rules(url, [{"name": "seq", "steps": STEPS, "then": then}])
    assert _texts(url, api, stream, 5) == expected


def test_each_step_is_named_in_the_source(url: str, case: tuple[str, bool]) -> None:
    api, stream = case
    put_rules(url, [{"name": "seq", "steps": STEPS, "then": "cycle"}])
    assert _sources(url, api, stream, 4) == ["rule:seq#0", "rule:seq#1", "rule:seq#2", "rule:seq#0"]


@pytest.mark.parametrize(
    ("limit", "expected"),
    [
        ({"times": 2}, ["A", "A", "B", "B"]),
        ({"once": True}, ["A", "B", "B", "B"]),
        ({"times": 3, "steps": [{"text": "A"}]}, ["A", "A", "A", "B"]),
    ],
)
def test_times_and_once_hand_over_to_the_next_rule(
    url: str, case: tuple[str, bool], limit: dict[str, Any], expected: list[str]
) -> None:
    api, stream = case
    first: dict[str, Any] = {"name": "first", **limit}
    if "steps" not in first:
        first["reply"] = {"text": "A"}
    put_rules(url, [first, {"name": "second", "reply": {"text": "B"}}])
    assert _texts(url, api, stream, 4) == expected


def test_a_sequence_of_faults_then_an_answer(url: str, case: tuple[str, bool]) -> None:
    """The retry test of docs/rules.md: a 429, then a 503, then the answer, every time after."""
    api, stream = case
    put_rules(url, [{"name": "flaky", "steps": [{"outcome": "429"}, {"outcome": "503"}, {"text": "Fine now."}]}])
    for status in (429, 503):
        with pytest.raises(Exception) as caught:
            ask(url, api, stream, Ask())
        assert status_of(caught.value) == status
    assert _texts(url, api, stream, 2) == ["Fine now.", "Fine now."]


def test_a_refused_request_uses_no_step(url: str, case: tuple[str, bool]) -> None:
    """A fault asked for by the request's own header refuses it before the rule's step is used."""
    api, stream = case
    put_rules(url, [{"name": "seq", "steps": STEPS, "then": "stop"}])
    with pytest.raises(Exception) as caught:
        ask(url, api, stream, Ask(headers={"x-llmreplay-fault": "429"}))
    assert status_of(caught.value) == 429
    assert _texts(url, api, stream, 4) == ["one", "two", "three", "synthetic"]


def test_the_first_rule_that_matches_in_file_order(url: str, case: tuple[str, bool]) -> None:
    api, stream = case
    put_rules(
        url,
        [
            {"name": "specific", "match": {"last_user": "weather"}, "reply": {"text": "specific"}},
            {"name": "general", "reply": {"text": "general"}},
            {"name": "never", "match": {"last_user": "weather"}, "reply": {"text": "never"}},
        ],
    )
    assert _texts(url, api, stream, 1, Ask(user="weather?")) == ["specific"]
    assert _texts(url, api, stream, 1, Ask(user="news?")) == ["general"]


def test_rules_added_at_run_time_go_first(url: str, case: tuple[str, bool]) -> None:
    api, stream = case
    put_rules(url, [{"name": "base", "reply": {"text": "base"}}])
    post_rules(url, [{"name": "added", "match": {"last_user": "new"}, "reply": {"text": "added"}}])
    assert _texts(url, api, stream, 1, Ask(user="new")) == ["added"]
    assert _texts(url, api, stream, 1, Ask(user="old")) == ["base"]
    post_rules(url, [{"name": "latest", "once": True, "reply": {"text": "latest"}}])
    assert _texts(url, api, stream, 2, Ask(user="new")) == ["latest", "added"]


def test_rules_of_a_test_answer_only_its_requests(url: str, case: tuple[str, bool]) -> None:
    api, stream = case
    put_rules(url, [{"name": "global", "reply": {"text": "global"}}])
    post_rules(url, [{"name": "mine", "steps": [{"text": "mine 1"}, {"text": "mine 2"}]}], test_id="t-a")
    a, b = (Ask(headers={"x-llmreplay-test-id": t}) for t in ("t-a", "t-b"))
    assert _texts(url, api, stream, 1, a) == ["mine 1"]
    assert _texts(url, api, stream, 1, b) == ["global"]  # another test's requests: the global rules
    assert _texts(url, api, stream, 1, Ask()) == ["global"]  # no test id: the global rules
    assert _texts(url, api, stream, 2, a) == ["mine 2", "mine 2"]
    assert [e["answered_by"]["rule"] for e in journal(url, test_id="t-a")] == ["mine"] * 3


def test_counts_are_each_tests_own(url: str, case: tuple[str, bool]) -> None:
    """Tests sharing one server and one global sequence do not use up each other's steps."""
    api, stream = case
    put_rules(url, [{"name": "seq", "steps": STEPS, "then": "stop"}])
    a, b = (Ask(headers={"x-llmreplay-test-id": t}) for t in ("t-a", "t-b"))
    assert _texts(url, api, stream, 2, a) == ["one", "two"]
    assert _texts(url, api, stream, 4, b) == ["one", "two", "three", "synthetic"]
    assert _texts(url, api, stream, 2, a) == ["three", "synthetic"]
    r = httpx.post(url + "/api/rules/reset", timeout=10)
    assert r.status_code == 200, r.text
    assert _texts(url, api, stream, 1, a) == ["one"]


def test_a_stream_cut_by_a_step_still_uses_it(url: str, case: tuple[str, bool]) -> None:
    api, stream = case
    put_rules(url, [{"name": "seq", "steps": [{"text": "x" * 40, "outcome": "disconnect@50%"}, {"text": "whole"}]}])
    got = Got()
    with pytest.raises(CUT):
        ask(url, api, stream, Ask(), got)
    assert _texts(url, api, stream, 1) == ["whole"]


def test_a_test_id_in_the_base_url_scopes_rules_too(url: str, case: tuple[str, bool]) -> None:
    """Apps that cannot set a header put the test id in the base URL (``/_test/ID``)."""
    api, stream = case
    put_rules(url, [{"name": "global", "match": {"path": PATHS[api]}, "reply": {"text": "global"}}])
    post_rules(
        url,
        [{"name": "mine", "match": {"last_user": "mine"}, "reply": {"text": "{{header.x-llmreplay-test-id}}"}}],
        "t/1",
    )
    prefixed = url + "/_test/t%2F1"
    assert ask(url, api, stream, Ask(user="mine")).text != "t/1"
    assert ask(prefixed, api, stream, Ask(user="mine")).text == "t/1"
    assert ask(prefixed, api, stream, Ask(user="other")).text == "global"  # the path is the API's, prefix aside
