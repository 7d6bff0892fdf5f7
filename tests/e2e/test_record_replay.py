"""Record all four APIs through the proxy against a synthetic upstream, then replay: same bytes, same pace."""

from __future__ import annotations

import itertools
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from llmreplay.cassettes.model import Interaction
from llmreplay.cassettes.summary import problems
from llmreplay.server import BackgroundServer
from tests.schedule_spy import TOLERANCE_S, spy_on_streams

from .common import (
    RAW_CASES,
    REPLY,
    SDK_CALLS,
    SDK_CASES,
    Got,
    Raw,
    fetch,
    only_cassette,
    recorder,
    replayer,
    text_of,
    upstream_server,
)

pytestmark = pytest.mark.sdk


@dataclass
class Recorded:
    folder: Path
    raw: dict[str, Got]
    """What the client got through the recorder, per raw case."""
    sdk: dict[tuple[str, bool], Any]
    """The SDK results through the recorder."""
    interactions: list[Interaction]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Recorded:
    folder = tmp_path_factory.mktemp("cassettes")
    with upstream_server() as up, recorder(folder, up.url) as rec:
        raw = {c.name: fetch(rec.url, c) for c in RAW_CASES}
        sdk = {(api, s): SDK_CALLS[api](rec.url, s) for api, s in SDK_CASES}
    return Recorded(folder, raw, sdk, only_cassette(folder))


@pytest.fixture(scope="module")
def paced(recorded: Recorded) -> Iterator[BackgroundServer]:
    with replayer(recorded.folder) as s:
        yield s


@pytest.fixture(scope="module")
def instant(recorded: Recorded) -> Iterator[BackgroundServer]:
    with replayer(recorded.folder, speed=0) as s:
        yield s


def interaction_for(recorded: Recorded, raw: Raw) -> Interaction:
    body = json.dumps(raw.body).encode()
    found = [it for it in recorded.interactions if it.request.path == raw.path and it.request.body == body]
    assert len(found) == 1, f"{raw.name}: {len(found)} recordings"
    return found[0]


def sse_data(raw: bytes) -> list[str]:
    """The data payloads of an SSE stream, in order."""
    text = raw.decode().replace("\r\n", "\n")
    out = []
    for block in text.split("\n\n"):
        data = [line[5:].lstrip() for line in block.split("\n") if line.startswith("data:")]
        if data:
            out.append("\n".join(data))
    return out


def test_cassette_holds_every_exchange_with_times(recorded: Recorded) -> None:
    its = recorded.interactions
    assert len(its) == len(RAW_CASES) + len(SDK_CASES)
    for i, it in enumerate(its):
        assert problems(i, it) == []
        assert it.response.status == 200 and it.response.error is None
    for raw in RAW_CASES:
        it = interaction_for(recorded, raw)
        got = recorded.raw[raw.name]
        assert got.status == 200
        assert it.api == raw.api
        assert it.response.stream == raw.stream
        assert it.response.raw == got.body, f"{raw.name}: the cassette holds other bytes than the client got"
        if raw.stream:
            ats = [e.at_us for e in it.response.events or ()]
            assert len(ats) >= 5
            assert ats == sorted(ats)
            assert ats[0] >= 90_000, "the upstream's 100 ms first-token delay is in the recording"
            gaps = {round((b - a) / 1000) for a, b in itertools.pairwise(ats) if b - a > 5000}
            assert len(gaps) > 2, f"{raw.name}: jittered gaps should vary, got {sorted(gaps)}"
        else:
            assert it.response.end_us >= it.response.headers_us > 0


@pytest.mark.parametrize("raw", RAW_CASES, ids=lambda r: r.name)
def test_replay_gives_the_same_bytes(recorded: Recorded, instant: BackgroundServer, raw: Raw) -> None:
    got = fetch(instant.url, raw)
    before = recorded.raw[raw.name]
    assert got.status == before.status == 200
    assert got.body == before.body
    if raw.stream:
        assert sse_data(got.body) == sse_data(before.body)
        assert len(sse_data(got.body)) >= 5
    else:
        assert got.body[:1] == b"{"
        assert got.headers["content-type"].startswith("application/json")


@pytest.mark.parametrize(("api", "stream"), SDK_CASES, ids=[f"{a}-{'stream' if s else 'plain'}" for a, s in SDK_CASES])
def test_replay_gives_the_sdk_the_same_result(
    recorded: Recorded, instant: BackgroundServer, api: str, stream: bool
) -> None:
    before = recorded.sdk[(api, stream)]
    assert text_of(api, before) == REPLY
    again = SDK_CALLS[api](instant.url, stream)
    assert again == before


def offsets_of(it: Interaction, speed: float = 1.0) -> list[float]:
    """The writes a paced replay of ``it`` is due to make: one per recorded event at its offset divided by the
    speed (events recorded at the same instant leave in one write; speed 0: all at once)."""
    out: list[float] = []
    for e in it.response.events or ():
        at = 0.0 if speed <= 0 else e.at_us / 1e6 / speed
        if not out or out[-1] != at:
            out.append(at)
    return out


def test_replay_keeps_the_recorded_gaps(
    recorded: Recorded, paced: BackgroundServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Checked on the writer's own schedule: a client's stopwatch would also measure the machine's load. How close
    # to their deadlines the events leave is figure 3 of benchmarks/ (``python -m benchmarks.replay``).
    spy = spy_on_streams(monkeypatch)
    for raw in (r for r in RAW_CASES if r.stream):
        it = interaction_for(recorded, raw)
        assert it.response.events is not None
        got = fetch(paced.url, raw)
        assert got.body == it.response.raw
        stream = spy.of(paced)[-1]
        # Every event scheduled at the replay's start plus its recorded offset, none sent early, ...
        stream.check_schedule(offsets_of(it))
        # ... and each recorded gap kept from one write to the next (bar a late first event's shift, checked above).
        gaps = [b - a for a, b in itertools.pairwise(stream.due[1:])]
        want = [b - a for a, b in itertools.pairwise(offsets_of(it)[1:])]
        assert all(abs(g - w) <= TOLERANCE_S for g, w in zip(gaps, want, strict=True)), raw.name


def _stream_case() -> Raw:
    return next(r for r in RAW_CASES if r.stream and r.api == "anthropic-messages")


def test_speed_two_halves_the_duration(recorded: Recorded, monkeypatch: pytest.MonkeyPatch) -> None:
    spy = spy_on_streams(monkeypatch)
    raw = _stream_case()
    it = interaction_for(recorded, raw)
    with replayer(recorded.folder, speed=2) as fast:
        got = fetch(fast.url, raw)
        stream = spy.only(fast)
    assert got.body == it.response.raw
    # Every offset halved on the writer's schedule (exact, whatever the machine's load; see check_schedule) ...
    stream.check_schedule(offsets_of(it, speed=2))
    # ... and the client cannot have had it sooner (a lower bound: load only makes it later).
    assert got.end >= it.response.events[-1].at_us / 1e6 / 2


def test_speed_zero_is_immediate(
    recorded: Recorded, instant: BackgroundServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    spy = spy_on_streams(monkeypatch)
    raw = _stream_case()
    it = interaction_for(recorded, raw)
    got = fetch(instant.url, raw)
    assert got.body == it.response.raw
    assert it.response.end_us > 300_000
    # Every event due at the start, so all of them leave in one write, with no timer in between.
    stream = spy.of(instant)[-1]
    stream.check_schedule([0.0])
    assert len(stream.sent) == 1
