"""Server metrics: counters, latency histograms and a per-second series, in constant memory.

:class:`Metrics` is the whole interface; the JSON shapes it returns are described
in :mod:`llmreplay.metrics.store` (snapshot) and :mod:`llmreplay.metrics.export`
(histograms, series, CSV). When :func:`llmreplay.metrics.prometheus.add_routes` has
attached a :class:`~llmreplay.metrics.prometheus.PrometheusMetrics`, every hook feeds it too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from llmreplay.metrics import store
from llmreplay.metrics.cost import Costs

if TYPE_CHECKING:
    from llmreplay.metrics.prometheus import PrometheusMetrics


class Metrics(store.Metrics):
    """The metrics store, fanning each hook out to Prometheus when that is attached."""

    prometheus: PrometheusMetrics | None = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.costs = Costs(self.window_s)

    def started(self, endpoint: str, *, stream: bool) -> None:
        super().started(endpoint, stream=stream)
        if self.prometheus is not None:
            self.prometheus.started(endpoint, stream=stream)

    def first_byte(self, endpoint: str, ttfb_s: float) -> None:
        super().first_byte(endpoint, ttfb_s)
        if self.prometheus is not None:
            self.prometheus.first_byte(endpoint, ttfb_s)

    def answered(
        self,
        endpoint: str,
        *,
        status: int,
        stream: bool,
        total_s: float,
        ttfb_s: float | None,
        chunks: int,
        input_tokens: int,
        output_tokens: int,
    ) -> None:
        super().answered(
            endpoint,
            status=status,
            stream=stream,
            total_s=total_s,
            ttfb_s=ttfb_s,
            chunks=chunks,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
        )
        prom = self.prometheus
        if prom is not None:
            if ttfb_s is not None:
                prom.first_byte(endpoint, ttfb_s)
            if chunks:
                prom.chunks(endpoint, chunks)
            prom.finished(
                endpoint,
                status=status,
                stream=stream,
                total_s=total_s,
                input_tokens=input_tokens,
                output_tokens=output_tokens,
            )

    def chunks(self, endpoint: str, n: int) -> None:
        super().chunks(endpoint, n)
        if self.prometheus is not None:
            self.prometheus.chunks(endpoint, n)

    def denied(self, endpoint: str) -> None:
        super().denied(endpoint)
        if self.prometheus is not None:
            self.prometheus.denied(endpoint)

    def fault(self, endpoint: str, kind: str) -> None:
        super().fault(endpoint, kind)
        if self.prometheus is not None:
            self.prometheus.fault(endpoint, kind)

    def cost(self, endpoint: str, model: str, usd: float) -> None:
        """An answered exchange's cost at its model's prices (USD)."""
        self.costs.add(self._second(), endpoint, model, usd)
        if self.prometheus is not None:
            self.prometheus.cost(endpoint, model, usd)

    def snapshot(self) -> dict[str, Any]:
        out = super().snapshot()
        out["cost_usd"] = self.costs.as_json(self._second())
        return out

    def reset(self) -> None:
        super().reset()
        self.costs.clear()

    def frame_lateness(self, counts: list[int], total_s: float) -> None:
        """Stream writes' lateness, taken from the writer in bulk (Prometheus only; see ``shaping.lateness``)."""
        if self.prometheus is not None and (total_s or any(counts)):
            self.prometheus.frame_lateness(counts, total_s)


__all__ = ["Metrics"]
