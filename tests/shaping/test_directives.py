"""The x-llmreplay-* request headers: parsed once, bad values named in an ApiError."""

from __future__ import annotations

import pytest

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.shaping.directives import NONE, parse_headers


def test_no_llmreplay_headers() -> None:
    assert parse_headers({}) is NONE
    assert parse_headers({"content-type": "application/json", "x-other": "1"}) is NONE


def test_every_header() -> None:
    d = parse_headers(
        {
            "x-llmreplay-fault": "disconnect@3",
            "x-llmreplay-scenario": "429,ok",
            "x-llmreplay-scenario-key": "t1",
            "x-llmreplay-ttft-ms": "250",
            "x-llmreplay-gap-ms": "1.5",
            "x-llmreplay-jitter-ms": "0",
            "x-llmreplay-chunk-size": "7",
            "x-llmreplay-tool-call": "get_weather",
            "x-llmreplay-retry-after-ms": "100",
        }
    )
    assert d.outcome is not None and d.outcome.kind == "disconnect" and d.outcome.at == 3
    assert (d.scenario, d.scenario_key) == ("429,ok", "t1")
    assert (d.ttft_ms, d.gap_ms, d.jitter_ms, d.retry_after_ms) == (250.0, 1.5, 0.0, 100.0)
    assert d.chunk_size == 7 and isinstance(d.chunk_size, int)
    assert d.tool_call == "get_weather"


def test_status() -> None:
    assert parse_headers({"x-llmreplay-status": "429"}).outcome.status == 429  # type: ignore[union-attr]
    assert parse_headers({"x-llmreplay-status": "200"}).outcome is None
    # An error status wins over a fault; a success status leaves the fault in force.
    both = parse_headers({"x-llmreplay-status": "503", "x-llmreplay-fault": "timeout"})
    assert both.outcome is not None and both.outcome.status == 503
    ok_fault = parse_headers({"x-llmreplay-status": "200", "x-llmreplay-fault": "timeout"})
    assert ok_fault.outcome is not None and ok_fault.outcome.kind == "timeout"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("true", True), ("YES", True), ("1", True), ("false", False), ("no", False), ("0", False), (" f ", "f")],
)
def test_tool_call(value: str, expected: bool | str) -> None:
    assert parse_headers({"x-llmreplay-tool-call": value}).tool_call == expected


def test_empty_scenario_is_none() -> None:
    d = parse_headers({"x-llmreplay-scenario": "", "x-llmreplay-scenario-key": ""})
    assert d.scenario is None and d.scenario_key is None


BAD = [
    ("x-llmreplay-status", "abc"),
    ("x-llmreplay-status", "199"),
    ("x-llmreplay-status", "600"),
    ("x-llmreplay-status", "-429"),
    ("x-llmreplay-status", ""),
    ("x-llmreplay-fault", "nope"),
    ("x-llmreplay-fault", "429@3"),
    ("x-llmreplay-fault", ""),
    ("x-llmreplay-ttft-ms", "soon"),
    ("x-llmreplay-ttft-ms", "-1"),
    ("x-llmreplay-ttft-ms", "nan"),
    ("x-llmreplay-ttft-ms", "inf"),
    ("x-llmreplay-gap-ms", "1e400"),
    ("x-llmreplay-jitter-ms", ""),
    ("x-llmreplay-chunk-size", "0"),
    ("x-llmreplay-chunk-size", "1.5"),
    ("x-llmreplay-chunk-size", "ten"),
    ("x-llmreplay-retry-after-ms", "-5"),
]


@pytest.mark.parametrize(("header", "value"), BAD, ids=[f"{h[13:]}={v!r}" for h, v in BAD])
def test_bad_values_name_the_header(header: str, value: str) -> None:
    with pytest.raises(ApiError) as info:
        parse_headers({header: value})
    err = info.value
    assert err.kind == ErrorKind.INVALID_REQUEST
    assert err.param == header
    assert header in err.message


def test_superscript_status_is_an_api_error() -> None:
    with pytest.raises(ApiError):
        parse_headers({"x-llmreplay-status": "4²9"})
