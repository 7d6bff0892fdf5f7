"""What the answered exchanges cost (USD, at the model catalogue's prices), per endpoint and model, and per
second over the metrics window, for ``GET /api/metrics`` (its ``cost_usd``) and the dashboard's cost per
minute. Models a client names are bounded: past :data:`MAX_MODELS` distinct ones, the rest count as ``other``."""

from __future__ import annotations

from typing import Any

MAX_MODELS = 256
OTHER = "other"


class Costs:
    """Totals by endpoint and model, and a ring of the last ``window_s`` seconds' sums."""

    def __init__(self, window_s: int) -> None:
        self.window_s = window_s
        self.by: dict[tuple[str, str], float] = {}
        self._ring = [0.0] * window_s
        self._seconds = [-1] * window_s

    def add(self, second: int, endpoint: str, model: str, usd: float) -> None:
        key = (endpoint, model)
        if key not in self.by and len(self.by) >= MAX_MODELS:
            key = (endpoint, OTHER)
        self.by[key] = self.by.get(key, 0.0) + usd
        i = second % self.window_s
        if self._seconds[i] != second:
            self._seconds[i], self._ring[i] = second, 0.0
        self._ring[i] += usd

    def last_minute(self, now: int) -> float:
        """The cost of the exchanges answered in the last 60 seconds (the window's, when shorter)."""
        span = min(60, self.window_s)
        return sum(self._ring[s % self.window_s] for s in range(now - span + 1, now + 1) if self._seen(s))

    def _seen(self, second: int) -> bool:
        return second >= 0 and self._seconds[second % self.window_s] == second

    def as_json(self, now: int) -> dict[str, Any]:
        by_endpoint: dict[str, float] = {}
        by_model: dict[str, float] = {}
        for (endpoint, model), usd in self.by.items():
            by_endpoint[endpoint] = by_endpoint.get(endpoint, 0.0) + usd
            by_model[model] = by_model.get(model, 0.0) + usd
        return {
            "total": sum(self.by.values()),
            "last_minute": self.last_minute(now),
            "by_endpoint": by_endpoint,
            "by_model": by_model,
        }

    def clear(self) -> None:
        self.by.clear()
        self._ring = [0.0] * self.window_s
        self._seconds = [-1] * self.window_s
