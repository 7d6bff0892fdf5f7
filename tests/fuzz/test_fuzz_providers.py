"""Property-based fuzzing of every provider API on one shared server.

``LLMREPLAY_FUZZ_EXAMPLES`` bodies per API (1,000 by default; the issue's 10,000 with
``LLMREPLAY_FUZZ_EXAMPLES=10000 pytest tests/fuzz`` or ``python -m benchmarks.fuzz``).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from llmreplay.server import BackgroundServer
from tests.conftest import settings as fast_settings
from tests.fuzz.bodies import APIS, EXAMPLES, Api, Client, bodies, check_envelope, check_good

SENT: dict[str, int] = {}


@pytest.fixture(scope="module")
def fuzzed() -> Iterator[BackgroundServer]:
    with BackgroundServer(fast_settings()) as s:
        yield s


@pytest.mark.parametrize("api", APIS, ids=[a.name for a in APIS])
def test_no_5xx_and_the_provider_envelope(fuzzed: BackgroundServer, api: Api) -> None:
    client = Client(fuzzed.port)
    sent = 0

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(body=bodies(api), stream=st.sampled_from([None, None, True, False]))
    def one(body: bytes, stream: bool | None) -> None:
        nonlocal sent
        if stream is not None and body.startswith(b"{"):
            # Half the odd bodies also ask for a stream: the streaming paths get the same abuse.
            try:
                obj = json.loads(body)
                if isinstance(obj, dict):
                    body = json.dumps({**obj, "stream": stream}).encode()
            except (ValueError, RecursionError):
                pass
        status, data, ctype = client.post(api.path, body)
        sent += 1
        check_envelope(api, status, data, ctype)

    try:
        one()
    finally:
        SENT[api.name] = sent
    assert sent >= EXAMPLES * 0.9, f"only {sent} bodies sent to {api.name}"
    # Still up, and still right.
    status, data, _ = client.post(api.path, json.dumps(api.good).encode())
    check_good(api, status, data)
    client.close()


def test_every_api_still_answers_well_formed_requests(fuzzed: BackgroundServer) -> None:
    client = Client(fuzzed.port)
    for api in APIS:
        status, data, _ = client.post(api.path, json.dumps(api.good).encode())
        check_good(api, status, data)
    client.close()
    print("\nfuzzed bodies per API:", json.dumps(SENT))
