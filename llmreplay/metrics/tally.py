"""Prometheus figures kept as plain numbers between scrapes (:mod:`llmreplay.metrics.prometheus`).

Each request changed about ten prometheus_client values, each under its lock, and walked two histograms' buckets
in Python: ~3 µs a request, more than the rest of the metrics together. The hooks now add to plain numbers, and
whenever the registry is read (a scrape, any ``collect()``), :class:`Flush`, the registry's first collector, copies
those that changed into their prometheus_client values. The numbers are totals, summed in the order the values
would have been, so a scrape reads the same figures to the last bit.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector

if TYPE_CHECKING:
    from llmreplay.metrics.prometheus import PrometheusMetrics


class EndpointTally:
    """One endpoint's figures, kept as plain numbers and copied into its label children when the registry is read
    (:meth:`PrometheusMetrics.flush`): a prometheus_client update takes a lock and, for a histogram, walks its
    buckets in Python, ~10 of them a request. The numbers are the totals the children would hold, summed in the
    same order, so what a scrape reads is the same to the last bit."""

    __slots__ = (
        "children",
        "chunks",
        "denied",
        "dirty",
        "duration",
        "fault_labels",
        "faults",
        "in_flight",
        "input",
        "name",
        "output",
        "status",
        "streams",
        "ttfb",
    )

    def __init__(self, m: PrometheusMetrics, name: str) -> None:
        self.name = name
        self.children = Children(m, name)
        self.dirty = False
        self.status: dict[int, float] = {}
        self.fault_labels: dict[str, str] = {}
        """Each kind's label: its own name, or ``other`` past the label bound."""
        self.faults: dict[str, float] = {}
        """By label."""
        self.in_flight = self.streams = 0.0
        self.input = self.output = self.chunks = self.denied = 0.0
        self.ttfb = Observed(len(m.ttfb._upper_bounds))
        self.duration = Observed(len(m.duration._upper_bounds))

    def flush(self, m: PrometheusMetrics) -> None:
        c = self.children
        for status, n in self.status.items():
            child = c.status.get(status)
            if child is None:
                child = c.status[status] = m.requests.labels(self.name, str(status))
            child._value.set(n)
        for label, n in self.faults.items():
            child = c.faults.get(label)
            if child is None:
                child = c.faults[label] = m.faults.labels(self.name, label)
            child._value.set(n)
        c.in_flight._value.set(self.in_flight)
        c.streams._value.set(self.streams)
        for child, n in ((c.input, self.input), (c.output, self.output), (c.chunks, self.chunks)):
            child._value.set(n)
        c.denied._value.set(self.denied)
        self.ttfb.flush(c.ttfb)
        self.duration.flush(c.duration)
        self.dirty = False


class Children:
    """The label children of one endpoint, looked up once (``labels()`` is a dict lookup under a lock)."""

    __slots__ = ("chunks", "denied", "duration", "faults", "in_flight", "input", "output", "status", "streams", "ttfb")

    def __init__(self, m: PrometheusMetrics, name: str) -> None:
        self.status: dict[int, Any] = {}
        self.faults: dict[str, Any] = {}
        self.in_flight = m.in_flight.labels(name)
        self.streams = m.streams.labels(name)
        self.ttfb = m.ttfb.labels(name)
        self.duration = m.duration.labels(name)
        self.input = m.input_tokens.labels(name)
        self.output = m.output_tokens.labels(name)
        self.chunks = m.chunks_total.labels(name)
        self.denied = m.denied_total.labels(name)


class Observed:
    """A histogram's observations as plain numbers: the count in each bucket (not cumulative, as
    prometheus_client keeps them) and the sum."""

    __slots__ = ("counts", "sum")

    def __init__(self, buckets: int) -> None:
        self.counts = [0.0] * buckets
        self.sum = 0.0

    def flush(self, child: Any) -> None:
        for value, n in zip(child._buckets, self.counts, strict=True):
            value.set(n)
        child._sum.set(self.sum)


class Flush(Collector):
    """Brings the registry's values up to date whenever it is read; adds no metric of its own."""

    def __init__(self, prom: PrometheusMetrics) -> None:
        self._prom = prom

    def collect(self) -> Iterable[Metric]:
        self._prom.flush()
        return ()

    def describe(self) -> Iterable[Metric]:
        return ()
