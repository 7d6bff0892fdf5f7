"""``GET /metrics``: the server's counters in Prometheus' text exposition format.

:class:`PrometheusMetrics` has the same hooks as :class:`llmreplay.metrics.store.Metrics` and is fed by
it (see :class:`llmreplay.metrics.Metrics`), so the app calls one object. Each app gets its own
``CollectorRegistry``: tests start many apps in one process, and the global registry would refuse
the second set of names.

Under ``--workers N`` the supervisor sets ``PROMETHEUS_MULTIPROC_DIR`` before any worker starts:
prometheus_client then keeps every value in a per-process file there, and ``/metrics`` (whichever
worker answers) reads them all, so counters and histograms are sums over the workers and the
in-flight gauges count live workers only (the supervisor calls ``mark_process_dead`` on exit).

Metric names, all but the lateness histogram labelled by ``endpoint`` (the route's name: ``chat-completions``,
``messages``, ``gemini`` …)::

    llmreplay_requests_total{endpoint, status}        status "0": cut before any header was sent
    llmreplay_requests_in_flight{endpoint}
    llmreplay_streams_in_flight{endpoint}
    llmreplay_time_to_first_byte_seconds{endpoint}    histogram (streams: first content chunk)
    llmreplay_request_duration_seconds{endpoint}      histogram
    llmreplay_input_tokens_total{endpoint}
    llmreplay_output_tokens_total{endpoint}
    llmreplay_stream_chunks_total{endpoint}
    llmreplay_rate_limited_total{endpoint}
    llmreplay_faults_total{endpoint, kind}             kind: "500", "disconnect", "timeout" …
    llmreplay_cost_usd_total{endpoint, model}          at the model catalogue's prices (docs/models.md)
    llmreplay_frame_lateness_seconds                  histogram, no labels: how late each stream write left
                                                      against its deadline (the scheduler's own account)

Counters never go back to zero: ``POST /api/metrics/reset`` resets the JSON metrics only, as
Prometheus expects of a counter.
"""

from __future__ import annotations

import bisect
import hmac
import math
import os
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from llmreplay.metrics.tally import EndpointTally, Flush
from llmreplay.runtime import RUNTIME
from llmreplay.shaping.lateness import BOUNDS_S as LATENESS_BUCKETS

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
MAX_ENDPOINTS = 64
"""Distinct endpoint label values; later ones are counted as ``"other"`` (bounded cardinality)."""
MAX_KINDS = 32
OTHER = "other"

TTFB_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


_TTFB_BOUNDS = (*TTFB_BUCKETS, math.inf)
_DURATION_BOUNDS = (*DURATION_BUCKETS, math.inf)


class PrometheusMetrics:
    """Prometheus counters, gauges and histograms fed by the same hooks as the metrics store."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        reg = self.registry
        # Registered first, so that every read of the registry (a scrape, a test's collect()) sees the figures.
        reg.register(Flush(self))
        ep = ("endpoint",)
        self.requests = Counter("llmreplay_requests", "Requests answered, by status.", (*ep, "status"), registry=reg)
        self.in_flight = Gauge(
            "llmreplay_requests_in_flight", "Requests being answered.", ep, registry=reg, multiprocess_mode="livesum"
        )
        self.streams = Gauge(
            "llmreplay_streams_in_flight", "Streams being sent.", ep, registry=reg, multiprocess_mode="livesum"
        )
        self.ttfb = Histogram(
            "llmreplay_time_to_first_byte_seconds",
            "Time to first byte; for streams, to the first content chunk.",
            ep,
            registry=reg,
            buckets=TTFB_BUCKETS,
        )
        self.duration = Histogram(
            "llmreplay_request_duration_seconds", "Whole request time.", ep, registry=reg, buckets=DURATION_BUCKETS
        )
        self.input_tokens = Counter("llmreplay_input_tokens", "Prompt tokens of answered requests.", ep, registry=reg)
        self.output_tokens = Counter("llmreplay_output_tokens", "Tokens sent in successful replies.", ep, registry=reg)
        self.chunks_total = Counter("llmreplay_stream_chunks", "Stream chunks written.", ep, registry=reg)
        self.denied_total = Counter("llmreplay_rate_limited", "Rate-limit denials (429s).", ep, registry=reg)
        self.faults = Counter("llmreplay_faults", "Injected faults, by kind.", (*ep, "kind"), registry=reg)
        self.cost_total = Counter(
            "llmreplay_cost_usd",
            "Cost of answered requests at the catalogue's prices (USD).",
            (*ep, "model"),
            registry=reg,
        )
        self._costs: dict[tuple[str, str], list[Any]] = {}
        """Per (endpoint, model): its label child and the total it should hold."""
        self.lateness = Histogram(
            "llmreplay_frame_lateness_seconds",
            "How late each stream write left against its deadline.",
            registry=reg,
            buckets=LATENESS_BUCKETS,
        )
        self._endpoints: dict[str, EndpointTally] = {}
        self._dirty: list[EndpointTally] = []
        self._direct = bool(os.environ.get(MULTIPROC_ENV))
        """Under ``--workers`` another worker may answer the scrape, reading this one's files: each hook writes
        through at once there."""

    def _ep(self, endpoint: str) -> EndpointTally:
        e = self._endpoints.get(endpoint)
        if e is None:
            name = endpoint if isinstance(endpoint, str) and len(self._endpoints) < MAX_ENDPOINTS - 1 else OTHER
            e = self._endpoints.get(name) or EndpointTally(self, name)
            self._endpoints[name] = self._endpoints[endpoint] = e
        if not e.dirty:
            e.dirty = True
            self._dirty.append(e)
        return e

    def flush(self) -> None:
        """Copy every figure changed since the last flush into its prometheus_client value."""
        dirty, self._dirty = self._dirty, []
        for e in dirty:
            e.flush(self)
        for child, total in self._costs.values():
            child._value.set(total)

    # The hooks: the same names and arguments as llmreplay.metrics.store.Metrics.

    def started(self, endpoint: str, *, stream: bool) -> None:
        e = self._ep(endpoint)
        e.in_flight += 1
        if stream:
            e.streams += 1
        if self._direct:
            self.flush()

    def first_byte(self, endpoint: str, ttfb_s: float) -> None:
        e = self._ep(endpoint)
        # The bucket observe() would count it in: the first whose upper bound is at or above it.
        t = e.ttfb
        t.sum += ttfb_s
        if ttfb_s == ttfb_s:  # observe() counts NaN in no bucket
            t.counts[bisect.bisect_left(_TTFB_BOUNDS, ttfb_s)] += 1
        if self._direct:
            self.flush()

    def finished(
        self,
        endpoint: str,
        *,
        status: int,
        stream: bool,
        total_s: float,
        input_tokens: int = 0,
        output_tokens: int = 0,
    ) -> None:
        e = self._ep(endpoint)
        codes = e.status
        codes[status] = codes.get(status, 0.0) + 1
        e.in_flight -= 1
        if stream:
            e.streams -= 1
        d = e.duration
        d.sum += total_s
        if total_s == total_s:
            d.counts[bisect.bisect_left(_DURATION_BOUNDS, total_s)] += 1
        if input_tokens:
            e.input += input_tokens
        if output_tokens:
            e.output += output_tokens
        if self._direct:
            self.flush()

    def chunks(self, endpoint: str, n: int) -> None:
        self._ep(endpoint).chunks += n
        if self._direct:
            self.flush()

    def denied(self, endpoint: str) -> None:
        self._ep(endpoint).denied += 1
        if self._direct:
            self.flush()

    def fault(self, endpoint: str, kind: str) -> None:
        e = self._ep(endpoint)
        kind = str(kind)
        label = e.fault_labels.get(kind)
        if label is None:
            label = kind if len(e.fault_labels) < MAX_KINDS - 1 and len(kind) <= 64 else OTHER
            e.fault_labels[kind] = label
        e.faults[label] = e.faults.get(label, 0.0) + 1
        if self._direct:
            self.flush()

    def cost(self, endpoint: str, model: str, usd: float) -> None:
        key = (endpoint, model)
        held = self._costs.get(key)
        if held is None:
            if len(self._costs) >= MAX_KINDS * 4 or len(model) > 128:  # clients name models: bounded labels
                key = (endpoint, OTHER)
            held = self._costs.get(key) or [self.cost_total.labels(self._ep(endpoint).name, key[1]), 0.0]
            self._costs[key] = held
        held[1] += usd
        if self._direct:
            self.flush()

    def frame_lateness(self, counts: list[int], total_s: float) -> None:
        """Add counts taken from the scheduler in bulk (one per bucket of ``LATENESS_BUCKETS``, then +Inf):
        observing each write would cost more than the write's own bookkeeping."""
        # prometheus_client keeps a histogram's buckets as separate counts and sums them when collected, so
        # each bucket's count goes into its own value, as ``observe`` would have put them one by one.
        for value, n in zip(self.lateness._buckets, counts, strict=True):
            if n:
                value.inc(n)
        self.lateness._sum.inc(total_s)

    # Reads.

    def exposition(self) -> bytes:
        """The text format: this process's registry, or every worker's files under ``--workers``."""
        self.flush()
        path = os.environ.get(MULTIPROC_ENV)
        if path:
            registry = CollectorRegistry()
            MultiProcessCollector(registry, path=path)
            return generate_latest(registry)
        return generate_latest(self.registry)


METRICS_PATH = "/metrics"


def add_routes(app: web.Application) -> PrometheusMetrics:
    """Feed Prometheus from the app's metrics and serve ``GET /metrics``; a second call changes nothing.

    Must run before a catch-all route is added (replay mode adds one), or that route answers first.
    """
    rt = app[RUNTIME]
    current = getattr(rt.metrics, "prometheus", None)
    if isinstance(current, PrometheusMetrics):
        return current
    prom = PrometheusMetrics()
    if hasattr(rt.metrics, "prometheus"):
        rt.metrics.prometheus = prom
    server = rt.settings.server

    async def metrics(request: web.Request) -> web.Response:
        token = server.admin_token
        if server.metrics_require_token and token:
            given = request.headers.get("Authorization", "")
            given = given[7:] if given[:7].lower() == "bearer " else ""
            if not hmac.compare_digest(given.encode(), token.encode()):
                return web.json_response(
                    {"message": "admin token required: send Authorization: Bearer <token>"}, status=401
                )
        rt.metrics.frame_lateness(*rt.writer.take_lateness())
        body = prom.exposition()
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})

    app.router.add_get(METRICS_PATH, metrics)
    return prom
