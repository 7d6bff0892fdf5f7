"""Fixtures of the cassette tests."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.cassettes.recorded_kit import record


@pytest.fixture(scope="module")
def alpha_beta(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder of two cassettes, ``alpha`` and ``beta``, each one recording of the same question (
    :func:`tests.cassettes.recorded_kit.ask`) with its own answer: "Alpha answers." and "Beta answers."."""
    folder = tmp_path_factory.mktemp("recorded")
    record(folder, "alpha", "Alpha answers.")
    record(folder, "beta", "Beta answers.")
    return folder
