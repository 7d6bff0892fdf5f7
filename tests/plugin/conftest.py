import pytest


@pytest.fixture(autouse=True)
def _fixed_terminal_width(monkeypatch: pytest.MonkeyPatch) -> None:
    # Inner pytest runs wrap and cut their summary lines to the terminal's width, which differs between a
    # developer's shell and CI; the expected lines are written for 80 columns.
    monkeypatch.setenv("COLUMNS", "80")
