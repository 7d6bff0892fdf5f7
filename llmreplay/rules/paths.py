"""Dotted paths into JSON values (``metadata.user``, ``messages.0.role``), for body tests and placeholders."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MISSING: Any = object()
"""What a path that leads nowhere yields (None is a value JSON can hold)."""


def at_path(value: Any, path: str) -> Any:
    """The value at a dotted path (keys, and list indices as numbers, negative from the end), or MISSING."""
    for key in path.split("."):
        if isinstance(value, Mapping):
            value = value.get(key, MISSING)
        elif isinstance(value, list) and key.lstrip("-").isdigit():
            i = int(key)
            value = value[i] if -len(value) <= i < len(value) else MISSING
        else:
            return MISSING
        if value is MISSING:
            return MISSING
    return value


def found(value: Any) -> bool:
    return value is not MISSING
