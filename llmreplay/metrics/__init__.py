"""Server metrics: counters, latency histograms and a per-second series, in constant memory.

:class:`Metrics` is the whole interface; the JSON shapes it returns are described
in :mod:`llmreplay.metrics.store` (snapshot) and :mod:`llmreplay.metrics.export`
(histograms, series, CSV).
"""

from llmreplay.metrics.store import Metrics

__all__ = ["Metrics"]
