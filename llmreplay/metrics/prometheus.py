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

import hmac
import os
from typing import Any

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST
from prometheus_client.multiprocess import MultiProcessCollector

from llmreplay.runtime import RUNTIME
from llmreplay.shaping.lateness import BOUNDS_S as LATENESS_BUCKETS

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
MAX_ENDPOINTS = 64
"""Distinct endpoint label values; later ones are counted as ``"other"`` (bounded cardinality)."""
MAX_KINDS = 32
OTHER = "other"

TTFB_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DURATION_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)


class _Endpoint:
    """The label children of one endpoint, looked up once: ``labels()`` is the slow part of a hook."""

    __slots__ = (
        "chunks",
        "denied",
        "duration",
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


class PrometheusMetrics:
    """Prometheus counters, gauges and histograms fed by the same hooks as the metrics store."""

    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry(auto_describe=True)
        reg = self.registry
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
        self._costs: dict[tuple[str, str], Any] = {}
        self.lateness = Histogram(
            "llmreplay_frame_lateness_seconds",
            "How late each stream write left against its deadline.",
            registry=reg,
            buckets=LATENESS_BUCKETS,
        )
        self._endpoints: dict[str, _Endpoint] = {}

    def _ep(self, endpoint: str) -> _Endpoint:
        e = self._endpoints.get(endpoint)
        if e is None:
            name = endpoint if isinstance(endpoint, str) and len(self._endpoints) < MAX_ENDPOINTS - 1 else OTHER
            e = self._endpoints.get(name) or _Endpoint(self, name)
            self._endpoints[name] = self._endpoints[endpoint] = e
        return e

    # The hooks: the same names and arguments as llmreplay.metrics.store.Metrics.

    def started(self, endpoint: str, *, stream: bool) -> None:
        e = self._ep(endpoint)
        e.in_flight.inc()
        if stream:
            e.streams.inc()

    def first_byte(self, endpoint: str, ttfb_s: float) -> None:
        self._ep(endpoint).ttfb.observe(ttfb_s)

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
        child = e.status.get(status)
        if child is None:
            child = e.status[status] = self.requests.labels(e.name, str(status))
        child.inc()
        e.in_flight.dec()
        if stream:
            e.streams.dec()
        e.duration.observe(total_s)
        if input_tokens:
            e.input.inc(input_tokens)
        if output_tokens:
            e.output.inc(output_tokens)

    def chunks(self, endpoint: str, n: int) -> None:
        self._ep(endpoint).chunks.inc(n)

    def denied(self, endpoint: str) -> None:
        self._ep(endpoint).denied.inc()

    def fault(self, endpoint: str, kind: str) -> None:
        e = self._ep(endpoint)
        kind = str(kind)
        child = e.faults.get(kind)
        if child is None:
            label = kind if len(e.faults) < MAX_KINDS - 1 and len(kind) <= 64 else OTHER
            child = e.faults[kind] = self.faults.labels(e.name, label)
        child.inc()

    def cost(self, endpoint: str, model: str, usd: float) -> None:
        key = (endpoint, model)
        child = self._costs.get(key)
        if child is None:
            if len(self._costs) >= MAX_KINDS * 4 or len(model) > 128:  # clients name models: bounded labels
                key = (endpoint, OTHER)
            child = self._costs.get(key) or self.cost_total.labels(self._ep(endpoint).name, key[1])
            self._costs[key] = child
        child.inc(usd)

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
