"""A fresh server per test (rules and counts start empty), and the (API, stream) case each test runs for."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from llmreplay.server import BackgroundServer
from tests.rules.sdk.common import CASES, IDS


@pytest.fixture
def url(make_server: Callable[..., BackgroundServer]) -> str:
    return make_server().url


@pytest.fixture(params=CASES, ids=IDS)
def case(request: pytest.FixtureRequest) -> tuple[str, bool]:
    api, stream = request.param
    return api, stream
