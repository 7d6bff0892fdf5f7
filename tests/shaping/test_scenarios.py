"""The scenario book: inline and named sequences, one cursor per key, bounded memory."""

from __future__ import annotations

import pytest

from llmreplay.shaping.outcomes import OK
from llmreplay.shaping.scenarios import ScenarioBook, UnknownScenario


def names(book: ScenarioBook, spec: str, key: str | None, n: int) -> list[str]:
    return [book.next(spec, key).name for _ in range(n)]


def test_inline_sequence_then_ok_forever() -> None:
    book = ScenarioBook()
    assert names(book, "429,503,ok,500", None, 6) == ["429", "503", "ok", "500", "ok", "ok"]
    assert book.next("429,503,ok,500") is OK


def test_keys_have_their_own_cursors() -> None:
    book = ScenarioBook()
    assert book.next("429,ok", "a").name == "429"
    assert book.next("429,ok", "b").name == "429"
    assert book.next("429,ok", "a").name == "ok"
    assert book.next("429,ok").name == "429"  # no key: the spec itself is the key
    # The same key on a different spec is a different cursor.
    assert book.next("503", "a").name == "503"


def test_named_scenarios() -> None:
    book = ScenarioBook()
    s = book.define("flaky", "429,ok")
    assert s.as_json() == {"name": "flaky", "steps": ["429", "ok"]}
    assert book.define("list", ["500", "disconnect@2"]).as_json()["steps"] == ["500", "disconnect@2"]
    assert names(book, "@flaky", "k", 3) == ["429", "ok", "ok"]
    assert book.steps_of("@flaky") == s.steps
    assert set(book.named) == {"flaky", "list"}


def test_redefining_restarts_its_keys_only() -> None:
    book = ScenarioBook()
    book.define("a", "429")
    book.define("ab", "503")
    book.next("@a", "k")
    book.next("@ab", "k")
    book.define("a", "500,ok")
    assert book.next("@a", "k").name == "500"
    assert book.next("@ab", "k").is_ok  # a name that merely starts with "a" kept its cursor


def test_remove() -> None:
    book = ScenarioBook()
    book.define("x", "429")
    book.next("@x", "k")
    assert book.remove("x") is True
    assert book.remove("x") is False
    with pytest.raises(UnknownScenario):
        book.next("@x", "k")
    book.define("x", "429")
    assert book.next("@x", "k").name == "429"  # a new definition starts afresh


def test_unknown_and_bad_specs() -> None:
    book = ScenarioBook()
    with pytest.raises(UnknownScenario) as info:
        book.next("@missing")
    assert info.value.args[0] == "missing"
    with pytest.raises(ValueError):
        book.next("429,bogus")
    with pytest.raises(ValueError):
        book.define("bad", "")
    with pytest.raises(ValueError):
        book.define("bad", [])
    assert "bad" not in book.named


def test_reset_restarts_every_key_but_keeps_names() -> None:
    book = ScenarioBook()
    book.define("n", "429,ok")
    book.next("@n", "a")
    book.next("503,ok", "b")
    book.reset()
    assert book.next("@n", "a").name == "429"
    assert book.next("503,ok", "b").name == "503"
    assert "n" in book.named


def test_cursors_are_bounded_least_recently_used_first() -> None:
    book = ScenarioBook(max_keys=3)
    for key in ("a", "b", "c"):
        assert book.next("429,ok", key).name == "429"
    book.next("429,ok", "a")  # a is now the most recently used
    book.next("429,ok", "d")  # evicts b, the least recently used
    assert len(book._cursors) == 3
    assert book.next("429,ok", "b").name == "429"  # b forgotten: starts again (and evicts c)
    assert book.next("429,ok", "a").is_ok  # a kept its place
    assert book.next("429,ok", "c").name == "429"  # c was evicted by b


def test_parsed_inline_specs_are_bounded() -> None:
    book = ScenarioBook(max_keys=2)
    for i in range(10):
        book.next(f"{400 + i},ok")
    assert len(book._parsed) <= 2
    assert book.steps_of("400,ok")[0].name == "400"
