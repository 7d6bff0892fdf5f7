"""The house's bounded memo: a dict kept to at most ``most`` entries, the oldest let go first.

What these memos keep (parsed bodies, match views, prices, token counts, model families) is rebuilt for the
cost of one miss. Letting the oldest go one at a time, rather than emptying the dict when full, keeps a load
that cycles through a little more than ``most`` keys from missing on all of them at once.
"""

from __future__ import annotations

from typing import TypeVar

K = TypeVar("K")
V = TypeVar("V")


def keep(memo: dict[K, V], key: K, value: V, most: int) -> V:
    """``value`` kept in ``memo`` under ``key``, the oldest entry let go first when ``memo`` holds ``most``;
    returns ``value``."""
    if len(memo) >= most and key not in memo:
        del memo[next(iter(memo))]
    memo[key] = value
    return value
