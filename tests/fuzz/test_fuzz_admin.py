"""Schemathesis against the admin API's own /api/openapi.json: no 5xx, no traceback, still answering.

``LLMREPLAY_FUZZ_ADMIN_EXAMPLES`` cases in all (500 by default; the issue's 5,000 with
``LLMREPLAY_FUZZ_ADMIN_EXAMPLES=5000 pytest tests/fuzz`` or ``python -m benchmarks.fuzz``), split evenly
over every operation, half schema-valid (positive) and half schema-violating (negative).
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from llmreplay.server import BackgroundServer
from tests.conftest import settings as fast_settings
from tests.fuzz.bodies import APIS, Client, check_good

TOTAL = int(os.environ.get("LLMREPLAY_FUZZ_ADMIN_EXAMPLES", "500"))
SENT: dict[str, int] = {}


@pytest.fixture(scope="module")
def admin_server() -> Iterator[BackgroundServer]:
    with BackgroundServer(fast_settings()) as s:
        yield s


def _operations(url: str) -> list[schemathesis.APIOperation]:
    schema = schemathesis.openapi.from_url(url + "/api/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


def test_admin_api_survives_schemathesis(admin_server: BackgroundServer) -> None:
    ops = _operations(admin_server.url)
    assert len(ops) >= 20, [op.label for op in ops]
    session = requests.Session()
    # Rounds until the budget is spent: an operation whose cases hypothesis runs out of (a GET without
    # parameters has one) drops out, and the rest share what is left.
    live = [(op, mode) for op in ops for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
    total = 0
    while live and total < TOTAL:
        per = max(1, math.ceil((TOTAL - total) / len(live)))
        still: list[tuple[schemathesis.APIOperation, GenerationMode]] = []
        for op, mode in live:
            sent = _fuzz(admin_server.url, session, op, mode, per)
            SENT[f"{op.label} {mode.value}"] = SENT.get(f"{op.label} {mode.value}", 0) + sent
            total += sent
            if sent >= per:
                still.append((op, mode))
        live = still
    print(f"\nadmin API: {total} cases over {len(ops)} operations")
    assert total >= TOTAL, SENT


def _fuzz(
    url: str, session: requests.Session, op: schemathesis.APIOperation, mode: GenerationMode, examples: int
) -> int:
    count = 0

    @settings(max_examples=examples, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(case=op.as_strategy(generation_mode=mode))
    def one(case: schemathesis.Case) -> None:
        nonlocal count
        response = case.call(base_url=url, session=session, timeout=30)
        count += 1
        assert "Traceback" not in response.text, (case.method, case.formatted_path, response.text[:500])
        case.validate_response(response, checks=[not_a_server_error])

    try:
        one()
    except Unsatisfiable:
        # Nothing to violate (no parameters, no body): the positive cases cover it.
        assert mode == GenerationMode.NEGATIVE, op.label
    return count


def test_admin_api_still_answers(admin_server: BackgroundServer) -> None:
    """After the fuzzing (which may have set any configuration), a reset brings back correct answers."""
    r = requests.post(admin_server.url + "/api/config/reset", timeout=10)
    assert r.status_code == 200, r.text
    requests.post(admin_server.url + "/api/scenarios/reset", timeout=10)
    requests.delete(admin_server.url + "/api/rules", timeout=10)  # a fuzzed rule may answer every call
    r = requests.get(admin_server.url + "/api/config", timeout=10)
    assert r.status_code == 200 and "global" in r.json(), r.text
    client = Client(admin_server.port)
    for api in APIS:
        status, data, _ = client.post(api.path, json.dumps(api.good).encode())
        check_good(api, status, data)
    client.close()
