"""Recordings unfit to serve are skipped when a cassette loads, one line each (issue 19, case 18)."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import msgpack
import pytest

from llmreplay.cassettes.fields import MAX_OFFSET_US, BadRecording, events, offset_us, pairs, status
from llmreplay.cassettes.model import Interaction, RecordedEvent, RecordedRequest, RecordedResponse
from llmreplay.cassettes.store import load, new_header

BAD: dict[str, tuple[str, Any, str]] = {
    # kind: (field of the response, value, what the line says)
    "events of strings": ("events", [["a", "b"]], "an event's data is not bytes"),
    "an event of one field": ("events", [[1]], "events is not a list of [at_us, bytes] pairs"),
    "a CRLF header name": ("headers", [["x-a\r\nset-cookie", "v"]], "invalid header name 'x-a\\r\\nset-cookie'"),
    "status -1": ("status", -1, "status -1 is not a final HTTP status (200-599)"),
    "status 2^63": ("status", 2**63, f"status {2**63} is not a final HTTP status"),
    "status 100": ("status", 100, "status 100 is not a final HTTP status"),
    "headers_us 1e18": ("headers_us", 1e18, "headers_us 1e+18 is not a time from 0 to 3600000000 µs (1 hour)"),
}


def recording(n: int, stream: bool = False) -> Interaction:
    body = b'{"model":"gpt-4o-mini","messages":[{"role":"user","content":"kind %d"}]}' % n
    request = RecordedRequest("POST", "/v1/chat/completions", (), (("content-type", "application/json"),), body)
    if stream:
        evs = (RecordedEvent(1000, b'data: {"choices":[]}\n\n'), RecordedEvent(2000, b"data: [DONE]\n\n"))
        response = RecordedResponse(200, (("content-type", "text/event-stream"),), None, evs, 500, 2000)
    else:
        response = RecordedResponse(200, (("content-type", "application/json"),), b"{}", None, 500, 900)
    return Interaction(request, response, "openai-chat", "chat", "2026-12-06T00:00:00Z")


def bad_object(n: int, field: str, value: Any) -> dict[str, Any]:
    obj = recording(n, stream=field == "events").to_obj()
    obj["response"][field] = value
    return obj


def write_cassette(path: Path, objects: list[Any]) -> Path:
    packer = msgpack.Packer(use_bin_type=True)
    path.write_bytes(packer.pack(new_header("u").to_obj()) + b"".join(packer.pack(o) for o in objects))
    return path


@pytest.mark.parametrize("kind", list(BAD))
def test_a_bad_recording_is_skipped_with_one_line_naming_cassette_and_index(
    tmp_path: Path, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    field, value, says = BAD[kind]
    path = write_cassette(tmp_path / "c.msgpack", [recording(0).to_obj(), bad_object(1, field, value)])
    with caplog.at_level(logging.WARNING, logger="llmreplay.cassettes"):
        cassette = load(path)
    assert cassette.interactions == [recording(0)]
    (line,) = cassette.skipped
    assert line.startswith(f"{path}: recording #1 skipped: ") and says in line, line
    assert [r.getMessage() for r in caplog.records] == [f"llmreplay: {line}"]


def test_bad_recordings_in_the_middle_keep_the_rest_and_their_numbers(tmp_path: Path) -> None:
    objects = [recording(0).to_obj(), bad_object(1, "status", 100), recording(2, stream=True).to_obj()]
    objects += [bad_object(3, "events", [[1]])]
    cassette = load(write_cassette(tmp_path / "c.msgpack", objects))
    assert cassette.interactions == [recording(0), recording(2, stream=True)]
    assert [line.split(": ")[1] for line in cassette.skipped] == ["recording #1 skipped", "recording #3 skipped"]


def test_request_and_response_that_are_not_maps_skip_the_recording(tmp_path: Path) -> None:
    path = write_cassette(tmp_path / "c.msgpack", [{"request": 1, "response": recording(0).to_obj()["response"]}])
    assert load(path).skipped == [f"{path}: recording #0 skipped: request is not a map"]


@pytest.mark.parametrize(
    ("check", "value"),
    [
        (status, True),
        (status, 600),
        (status, "200"),
        (offset_us, -1),
        (offset_us, float("inf")),
        (offset_us, float("nan")),
        (offset_us, MAX_OFFSET_US + 1),
        (offset_us, "5"),
        (events, [[float("nan"), b"x"]]),
        (events, [[-1, b"x"]]),
        (events, [[1, b"x", 3]]),
        (events, [1]),
        (events, {"a": 1}),
    ],
)
def test_values_out_of_type_or_range_are_refused(check: Any, value: Any) -> None:
    with pytest.raises(BadRecording):
        check(value) if check is not offset_us else check(value, "end_us")


@pytest.mark.parametrize(
    "header",
    [["", "v"], ["a b", "v"], ["x:y", "v"], ["x", "a\r\nb: c"], ["x", "a\nb"], ["x", "nul\x00"], ["x", 1], ["x"]],
)
def test_response_headers_that_cannot_be_sent_are_refused(header: list[Any]) -> None:
    with pytest.raises(BadRecording):
        pairs([["content-type", "text/plain"], header], "response headers", headers=True)


def test_what_can_be_sent_passes_unchanged() -> None:
    ok = [["content-type", "text/event-stream; charset=utf-8"], ["x-odd!#$%&'*+-.^_`|~", "tab\tand ünïcode"]]
    assert pairs(ok, "response headers", headers=True) == tuple(map(tuple, ok))
    assert events([[0, b""], [MAX_OFFSET_US, b"x"], [5.0, b"y"]]) == ((0, b""), (MAX_OFFSET_US, b"x"), (5, b"y"))
    assert offset_us(None, "end_us") == 0 and offset_us(12.7, "end_us") == 12
