"""What the registries (fault kinds, rate-limit strategies) share: a table by name that refuses a name twice."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar


class Named(Protocol):
    @property
    def name(self) -> str: ...


T = TypeVar("T", bound=Named)


def by_name(entries: Iterable[T], what: str) -> dict[str, T]:
    """The entries by name, in their order; a name given twice is a mistake caught at import."""
    table: dict[str, T] = {}
    for entry in entries:
        if entry.name in table:
            raise ValueError(f"{what} {entry.name!r} is listed twice")
        table[entry.name] = entry
    return table
