"""The outcome grammar shared by headers, scenarios and failure injection."""

from __future__ import annotations

import pytest

from llmreplay.shaping.outcomes import (
    DESCRIPTIONS,
    EARLY_KINDS,
    MAX_MS,
    MAX_POSITION,
    OK,
    STREAM_KINDS,
    Outcome,
    parse,
    parse_sequence,
)


@pytest.mark.parametrize(
    ("text", "kind", "status"),
    [
        ("429", "status", 429),
        ("400", "status", 400),
        ("599", "status", 599),
        ("529", "status", 529),
        ("ok", "ok", None),
    ],
)
def test_statuses_and_ok(text: str, kind: str, status: int | None) -> None:
    o = parse(text)
    assert (o.kind, o.status, o.text) == (kind, status, text)
    assert o.name == text


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("timeout", Outcome("timeout", ms=None, text="timeout")),
        ("timeout:2000", Outcome("timeout", ms=2000.0, text="timeout:2000")),
        ("reset", Outcome("reset", text="reset")),
        ("empty", Outcome("empty", text="empty")),
        ("slow-headers", Outcome("slow-headers", ms=5000.0, text="slow-headers")),
        ("slow-headers:250", Outcome("slow-headers", ms=250.0, text="slow-headers:250")),
        ("slow-first-token:1.5", Outcome("slow-first-token", ms=1.5, text="slow-first-token:1.5")),
        ("disconnect", Outcome("disconnect", text="disconnect")),
        ("disconnect@5", Outcome("disconnect", at=5.0, text="disconnect@5")),
        ("disconnect@50%", Outcome("disconnect", at=50.0, fraction=True, text="disconnect@50%")),
        ("stall@3:2000", Outcome("stall", at=3.0, ms=2000.0, text="stall@3:2000")),
        ("stall@3:2000:close", Outcome("stall", at=3.0, ms=2000.0, close=True, text="stall@3:2000:close")),
        ("stall", Outcome("stall", ms=5000.0, text="stall")),
        ("malformed@2", Outcome("malformed", at=2.0, text="malformed@2")),
        ("stream-error@4", Outcome("stream-error", at=4.0, text="stream-error@4")),
        ("truncate", Outcome("truncate", text="truncate")),
    ],
)
def test_fault_kinds(text: str, expected: Outcome) -> None:
    assert parse(text) == expected


def test_case_and_space_are_ignored() -> None:
    assert parse("  Disconnect@50%  ") == parse("disconnect@50%")
    assert parse("OK").is_ok


@pytest.mark.parametrize(
    "text",
    [
        "",
        "nope",
        "399",
        "600",
        "200",
        "42",
        "429@5",
        "429:100",
        "ok@1",
        "ok:1",
        "timeout@3",
        "truncate:5",
        "reset:close",
        "disconnect:close",
        "disconnect@150%",
        "disconnect@x",
        "stall@-1",
        "stall@3:abc",
        "disconnect@5@6",
        "slow-headers:-5",
        "timeout:5:close",
    ],
)
def test_bad_outcomes_raise_value_error(text: str) -> None:
    with pytest.raises(ValueError, match=r"\S"):
        parse(text)


def test_error_messages_say_what_is_allowed() -> None:
    with pytest.raises(ValueError, match="400 to 599"):
        parse("600")
    with pytest.raises(ValueError, match="known:"):
        parse("nope")
    with pytest.raises(ValueError, match=r"expected e\.g\."):
        parse("!!")


@pytest.mark.parametrize(
    ("text", "n", "pos"),
    [
        ("disconnect", 10, 5),
        ("disconnect", 0, 0),
        ("disconnect@3", 10, 3),
        ("disconnect@30", 10, 10),  # clamped to the stream
        ("disconnect@50%", 10, 5),
        ("disconnect@100%", 7, 7),
        ("disconnect@0%", 7, 0),
        ("stall@2.7:10", 10, 2),
    ],
)
def test_position(text: str, n: int, pos: int) -> None:
    assert parse(text).position(n) == pos


def test_names_are_status_or_kind() -> None:
    assert parse("503").name == "503"
    assert parse("stall@1:5").name == "stall"
    assert OK.is_ok and OK.name == "ok" and not parse("429").is_ok


def test_every_described_kind_parses() -> None:
    for name in DESCRIPTIONS:
        assert parse(name).name == name
    assert STREAM_KINDS.isdisjoint(EARLY_KINDS - {"slow-headers"})


def test_sequences() -> None:
    assert [o.text for o in parse_sequence("429, 429,ok")] == ["429", "429", "ok"]
    assert [o.text for o in parse_sequence("503,,ok,")] == ["503", "ok"]
    for bad in ("", " , ,", "429,nope"):
        with pytest.raises(ValueError):
            parse_sequence(bad)


NINES = "9" * 400
"""A number past a float's range: read as infinity, it once overflowed in a stage or held a stream for ever."""


TOO_BIG = [
    (f"disconnect@{NINES}", f"position must be at most {MAX_POSITION}"),
    (f"stall@{NINES}", f"position must be at most {MAX_POSITION}"),
    (f"malformed@{NINES}", f"position must be at most {MAX_POSITION}"),
    (f"stream-error@{NINES}", f"position must be at most {MAX_POSITION}"),
    (f"disconnect@{NINES}%", "percentage must be at most 100"),
    (f"stall@3:{NINES}", f"duration must be at most {MAX_MS} ms"),
    (f"stall@3:{NINES}:close", f"duration must be at most {MAX_MS} ms"),
    (f"timeout:{NINES}", f"duration must be at most {MAX_MS} ms"),
    (f"slow-headers:{NINES}", f"duration must be at most {MAX_MS} ms"),
    (f"slow-first-token:{NINES}.5", f"duration must be at most {MAX_MS} ms"),
    (f"disconnect@{MAX_POSITION + 1}", f"position must be at most {MAX_POSITION}"),
    (f"timeout:{MAX_MS}.5", f"duration must be at most {MAX_MS} ms"),
]
"""Spellings with a number past its bound, and what the refusal says is allowed."""


@pytest.mark.parametrize(("text", "allowed"), TOO_BIG)
def test_numbers_past_their_bounds_are_refused(text: str, allowed: str) -> None:
    with pytest.raises(ValueError, match=allowed) as caught:
        parse(text)
    # The message repeats enough of the spelling to recognise it, not all 400 digits.
    assert len(str(caught.value)) < 200


def test_numbers_at_their_bounds_are_kept() -> None:
    assert parse(f"stall@{MAX_POSITION}:{MAX_MS}") == Outcome(
        "stall", at=MAX_POSITION, ms=MAX_MS, text=f"stall@{MAX_POSITION}:{MAX_MS}"
    )
    assert parse(f"timeout:{MAX_MS}").ms == MAX_MS
    assert parse(f"disconnect@{MAX_POSITION}").position(3) == 3
