"""Cases 15 and 16 of issue 19: every number the live configuration takes is bounded, on every surface.

A value past its bound (``rate_limit.window_ms: 10**400``, a fault kind ``disconnect@`` with 400 nines, a
JSON ``1e400`` that parses to infinity) is the admin API's 422 naming the field and changes nothing, where it
was once kept and overflowed on every later request (``OverflowError`` in the quota table, a traceback per
request from the stream-faults stage). The settings file and the environment refuse the same values in one
line, through the same models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest

from llmreplay import config
from llmreplay.errors import ConfigError
from llmreplay.server import BackgroundServer

CHAT = "/v1/chat/completions"
HELLO = {"model": "gpt-4o", "messages": [{"role": "user", "content": "hi"}]}
HUGE = 10**400
NINES = "9" * 400

MakeServer = Callable[..., BackgroundServer]


@pytest.fixture
def api(make_server: MakeServer) -> Iterator[httpx2.Client]:
    with httpx2.Client(base_url=make_server().url, timeout=10) as c:
        yield c


def _no_traceback(caplog: pytest.LogCaptureFixture) -> None:
    assert not [r for r in caplog.records if r.exc_info or r.levelno >= logging.ERROR]


def _refused(api: httpx2.Client, path: str, loc: list[str], **body: Any) -> None:
    """The body is a 422 naming ``loc``, the configuration is as it was, and requests go on being answered."""
    before = api.get("/api/config").json()
    r = api.patch(path, **body)
    assert r.status_code == 422, r.text
    assert any(e["loc"][: len(loc)] == loc for e in r.json()["detail"]), r.json()
    assert api.get("/api/config").json() == before
    for _ in range(3):
        assert api.post(CHAT, json=HELLO).status_code == 200
        assert api.post(CHAT, json={**HELLO, "stream": True}).status_code == 200


# ---- case 16: rate-limit numbers -----------------------------------------------------------------------


@pytest.mark.parametrize("field", ["window_ms", "requests", "after_n", "tokens_per_minute"])
@pytest.mark.parametrize("path", ["/api/config/global", "/api/config/endpoints/chat-completions"])
def test_a_huge_rate_limit_number_is_422(
    api: httpx2.Client, field: str, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    api.patch(path, json={"rate_limit": {"enabled": True, "strategy": "token-bucket", "requests": 1000}})
    _refused(api, path, ["rate_limit", field], json={"rate_limit": {field: HUGE}})
    _no_traceback(caplog)


@pytest.mark.parametrize(
    ("raw", "loc"),
    [
        (b'{"rate_limit": {"window_ms": 1e400}}', ["rate_limit", "window_ms"]),
        (b'{"rate_limit": {"probability": 1e400}}', ["rate_limit", "probability"]),
        (b'{"rate_limit": {"tokens_per_minute": -1e400}}', ["rate_limit", "tokens_per_minute"]),
        (b'{"latency": {"delay_ms": 1e400}}', ["latency", "delay_ms"]),
        (b'{"latency": {"load_factor": NaN}}', ["latency", "load_factor"]),
        (b'{"failures": {"error_rate": Infinity}}', ["failures", "error_rate"]),
        (b'{"failures": {"kinds": {"500": 1e400}}}', ["failures", "kinds"]),
        (b'{"tool_call_probability": -Infinity}', ["tool_call_probability"]),
    ],
)
def test_non_finite_numbers_are_422(
    api: httpx2.Client, raw: bytes, loc: list[str], caplog: pytest.LogCaptureFixture
) -> None:
    """JSON's ``1e400`` is infinity once parsed; ``NaN`` and ``Infinity`` are Python's json extensions."""
    caplog.set_level(logging.INFO)
    _refused(api, "/api/config/global", loc, content=raw, headers={"content-type": "application/json"})
    _no_traceback(caplog)


def test_weights_that_would_sum_past_a_float_are_422(api: httpx2.Client) -> None:
    _refused(
        api, "/api/config/global", ["failures", "kinds"], json={"failures": {"kinds": {"500": 1e308, "503": 1e308}}}
    )


def test_the_original_names_are_bounded_too(api: httpx2.Client, caplog: pytest.LogCaptureFixture) -> None:
    """The original server's bucketCapacity and refillRate become requests and window_ms: a huge capacity or a
    tiny rate (a window past a float's range) is the 422 of the name the client used."""
    caplog.set_level(logging.INFO)
    for body, loc in [
        ({"rateLimit": {"bucketCapacity": HUGE, "refillRate": 1}}, ["rateLimit", "bucketCapacity"]),
        ({"rateLimit": {"bucketCapacity": 1e300, "refillRate": 1e-300}}, ["rateLimit", "bucketCapacity"]),
        ({"rateLimit": {"bucketCapacity": 5, "refillRate": 1e-310}}, ["rateLimit", "refillRate"]),
        ({"rateLimit": {"maxRequests": HUGE}}, ["rateLimit", "maxRequests"]),
        ({"rateLimit": {"windowMs": HUGE}}, ["rateLimit", "windowMs"]),
    ]:
        _refused(api, "/api/config/global", loc, json=body)
    _no_traceback(caplog)


def test_the_bounds_cover_real_quotas(api: httpx2.Client) -> None:
    """A day's window (requests per day), a billion requests and a trillion tokens a minute are taken and work."""
    big = {"requests": 10**9, "window_ms": 86_400_000, "after_n": 10**9, "tokens_per_minute": 10**12}
    r = api.patch("/api/config/global", json={"rate_limit": {"enabled": True, "strategy": "sliding-window", **big}})
    assert r.status_code == 200, r.text
    assert api.post(CHAT, json=HELLO).status_code == 200
    for strategy in ("fixed-window", "token-bucket", "leaky-bucket", "after-n"):
        assert api.patch("/api/config/global", json={"rate_limit": {"strategy": strategy}}).status_code == 200
        assert api.post(CHAT, json=HELLO).status_code == 200


# ---- case 15: fault kinds ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec",
    [f"disconnect@{NINES}", f"stall@{NINES}", f"malformed@{NINES}", f"stream-error@{NINES}", f"stall@3:{NINES}"],
)
@pytest.mark.parametrize("path", ["/api/config/global", "/api/config/endpoints/chat-completions"])
def test_a_fault_kind_with_a_huge_number_is_422(
    api: httpx2.Client, spec: str, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    _refused(api, path, ["failures", "kinds"], json={"failures": {"error_rate": 1, "kinds": {spec: 1}}})
    _no_traceback(caplog)


# ---- the settings file and the environment -------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "value"),
    [("window_ms", "1e400"), ("window_ms", "inf"), ("requests", "1" + "0" * 400), ("after_n", "nan")],
)
def test_the_settings_file_refuses_in_one_line(tmp_path: Path, key: str, value: str) -> None:
    f = tmp_path / "c.toml"
    f.write_text(f"[rate_limit]\n{key} = {value}\n")
    with pytest.raises(ConfigError) as info:
        config.load(f, environ={})
    line = str(info.value)
    assert "\n" not in line and f"[rate_limit] {key}" in line and "at most" in line


@pytest.mark.parametrize(
    ("env", "value"),
    [
        ("RATE_LIMIT_WINDOW_MS", "1e400"),
        ("RATE_LIMIT_WINDOW_MS", "86400001"),
        ("RATE_LIMIT_REQUESTS", "1" + "0" * 400),
        ("RATE_LIMIT_AFTER_N", "inf"),
        ("STREAM_DELAY_MS", "nan"),
    ],
)
def test_the_environment_refuses_in_one_line(env: str, value: str) -> None:
    with pytest.raises(ConfigError) as info:
        config.load(environ={env: value})
    line = str(info.value)
    assert "\n" not in line and line.startswith(f"{env}=") and "at most" in line
