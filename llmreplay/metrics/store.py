"""The metrics store: what the server counts, read by the admin API and the dashboard.

The app calls the hooks (``started``, ``first_byte``, ``finished``, ``chunks``,
``denied``, ``fault``) on the hot path; each is O(1) and allocates nothing that
outlives the call. Memory is constant however long the server runs: fixed
log-scale histograms, a ring buffer of ``window_s`` per-second slots, and at
most :data:`MAX_ENDPOINTS` endpoint names (later names are counted as ``"other"``).
No I/O, no threads, no sleeping; both clocks are injected.

``snapshot()`` (``GET /api/metrics``) returns, ready for ``json.dumps``::

    {
      "uptime_s": float,              # seconds since construction or the last reset()
      "started_at": str,              # ISO 8601 UTC of that moment, e.g. "2026-01-01T12:00:00.000Z"
      "totals": {
        "requests": int, "active_connections": int, "active_streams": int,
        "errors": int,                # finished with status >= 400 (429s included)
        "rate_limited": int,          # denied() calls
        "faults": int,                # fault() calls, all kinds
        "output_tokens": int, "input_tokens": int,
        "requests_per_s": int,        # requests started in the last full second
        "output_tokens_per_s": int,   # output tokens of requests finished in the last full second
        "peak_rps": int,              # most requests started in any one second
        "peak_concurrent_streams": int,
        "worst_ttfb_ms": float,       # exact
      },
      "endpoints": {
        name: {
          "requests": int, "active_connections": int, "active_streams": int,
          "status_codes": {"200": int, ...},    # at most 32 codes, then "other"
          "rate_limited": int,
          "faults": {kind: int, ...},           # at most 16 kinds, then "other"
          "chunks": int, "output_tokens": int, "input_tokens": int,
          "tokens_per_s": int,                  # output tokens in the last full second
          "ttfb_ms": {"p50", "p90", "p95", "p99"},     # floats; 0.0 while empty
          "latency_ms": {"p50", "p90", "p95", "p99"},  # total request time
        }, ...
      },
    }

Percentiles come from bucket counts (about 1% relative error, see
:mod:`llmreplay.metrics.histogram`). ``latency()`` and ``detailed()`` are
described on their methods; the time series layout is in :mod:`llmreplay.metrics.export`.

``reset()`` zeroes every count, histogram and series and restarts ``uptime_s``,
but keeps the active-connection and active-stream gauges: requests in flight
still call ``finished()`` afterwards.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from llmreplay.metrics import export
from llmreplay.metrics.histogram import LAYOUT
from llmreplay.metrics.stats import OTHER, Stats

MAX_ENDPOINTS = 64
"""Distinct endpoint names kept, ``"other"`` included."""
MAX_ENDPOINT_NAME = 200
MAX_WINDOW_S = 86_400


class Metrics:
    """Counters, gauges, latency histograms and a per-second series, per endpoint and in total."""

    def __init__(
        self,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        window_s: int = 300,
    ) -> None:
        if not isinstance(window_s, int) or not 2 <= window_s <= MAX_WINDOW_S:
            raise ValueError(f"window_s must be an integer from 2 to {MAX_WINDOW_S}, got {window_s!r}")
        self._clock = clock
        self._wall = wall
        self.window_s = window_s
        self._endpoints: dict[str, Stats] = {}
        self._all = Stats(window_s)
        self._start()

    def _start(self) -> None:
        self._t0 = self._clock()
        self._wall0 = self._wall()
        self._last_second = 0
        self._next_second_at = self._t0 + 1.0

    def _second(self) -> int:
        """Whole seconds since the start; never goes back, so a stepping clock cannot corrupt the ring."""
        now = self._clock()
        if now < self._next_second_at:  # the common case: still the same second, nothing to compute
            return self._last_second
        s = int(now - self._t0)
        if s > self._last_second:
            self._last_second = s
            self._next_second_at = self._t0 + s + 1.0
        return self._last_second

    def _stats(self, endpoint: str) -> Stats:
        stats = self._endpoints.get(endpoint)
        if stats is None:
            stats = self._new_endpoint(endpoint)
        return stats

    def _new_endpoint(self, endpoint: str) -> Stats:
        name = endpoint
        named = len(self._endpoints) - (OTHER in self._endpoints)
        if not isinstance(name, str) or len(name) > MAX_ENDPOINT_NAME or named >= MAX_ENDPOINTS - 1:
            name = OTHER
        stats = self._endpoints.get(name)
        if stats is None:
            stats = self._endpoints[name] = Stats(self.window_s)
        return stats

    # -- hot path -----------------------------------------------------------------------------------

    def in_flight(self) -> int:
        """Requests started and not yet finished, over every endpoint."""
        return self._all.active

    def active(self, endpoint: str) -> int:
        """Requests of ``endpoint`` started and not yet finished (in this process)."""
        stats = self._endpoints.get(endpoint)
        return stats.active if stats is not None else 0

    def started(self, endpoint: str, *, stream: bool) -> None:
        """A request arrived: one more request and connection (and stream, when streaming)."""
        s = self._second()
        self._stats(endpoint).started(s, stream)
        self._all.started(s, stream)

    def first_byte(self, endpoint: str, ttfb_s: float) -> None:
        """Time to first byte (streams: to the first content chunk written) of one request, seconds."""
        s = self._second()
        bucket = LAYOUT.index(ttfb_s)
        self._stats(endpoint).first_byte(s, bucket, ttfb_s)
        self._all.first_byte(s, -1, ttfb_s)

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
        """A request ended: its status, total time (seconds) and tokens; one connection (and stream) fewer.
        :meth:`answered` with neither a first byte nor chunks, so that a store that feeds others feeds them there."""
        self.answered(
            endpoint,
            status=status,
            stream=stream,
            total_s=total_s,
            ttfb_s=None,
            chunks=0,
            input_tokens=input_tokens,
            output_tokens=output_tokens,
        )

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
        """An answer is over: :meth:`first_byte` (when it sent one), :meth:`chunks` and :meth:`finished` in one
        call, the one the observers make per request (one clock read and one lookup for the three)."""
        s = self._second()
        stats, every = self._stats(endpoint), self._all
        if ttfb_s is not None:
            stats.first_byte(s, LAYOUT.index(ttfb_s), ttfb_s)
            every.first_byte(s, -1, ttfb_s)
        if chunks:
            stats.chunks += chunks
            every.chunks += chunks
        bucket = LAYOUT.index(total_s)
        stats.finished(s, status, stream, bucket, total_s, input_tokens, output_tokens)
        every.finished(s, status, stream, -1, total_s, input_tokens, output_tokens)

    def chunks(self, endpoint: str, n: int) -> None:
        """``n`` stream chunks were written."""
        self._stats(endpoint).chunks += n
        self._all.chunks += n

    def denied(self, endpoint: str) -> None:
        """A rate-limit denial (its 429 is counted again, as a status, by ``finished``)."""
        s = self._second()
        self._stats(endpoint).denied(s)
        self._all.denied(s)

    def fault(self, endpoint: str, kind: str) -> None:
        """An injected fault of ``kind`` ("500", "disconnect", "timeout", ...)."""
        s = self._second()
        if not isinstance(kind, str):
            kind = str(kind)
        self._stats(endpoint).fault(s, kind)
        self._all.fault(s, kind)

    # -- reads ----------------------------------------------------------------------------------------

    def _merge_totals(self) -> None:
        """Rebuild the totals' histograms from the endpoints' (half the hot-path work of keeping them)."""
        ttfb, total = self._all.ttfb, self._all.total
        ttfb.reset()
        total.reset()
        for stats in self._endpoints.values():
            ttfb.merge(stats.ttfb)
            total.merge(stats.total)

    def snapshot(self) -> dict[str, Any]:
        """``GET /api/metrics``: the shape is in this module's docstring."""
        now = self._second()
        self._merge_totals()
        uptime = max(0.0, self._clock() - self._t0)
        return export.snapshot(self._all, self._endpoints, now, uptime, self._wall0)

    def latency(self, endpoint: str) -> dict[str, Any] | None:
        """``{"endpoint", "count", "ttfb": {p50, p90, p95, p99, max, mean}, "total": {...}}`` in ms, or None."""
        stats = self._endpoints.get(endpoint)
        if stats is None:
            return None
        return export.latency(endpoint, stats)

    def detailed(self) -> dict[str, Any]:
        """``snapshot()`` plus ``"histograms"`` and ``"series"`` (see :mod:`llmreplay.metrics.export`)."""
        now = self._second()
        out = self.snapshot()
        out["histograms"] = export.histograms(self._all, self._endpoints)
        out["series"] = export.series(self._all, self._endpoints, now, self.window_s, self._wall0)
        return out

    def csv(self) -> str:
        """The time series as CSV, one row per second per endpoint plus a ``*`` row for the total."""
        now = self._second()
        return export.csv_text(self._all, self._endpoints, now, self.window_s, self._wall0)

    def reset(self) -> None:
        """Zero all counts and restart the clock; active connections and streams are kept."""
        self._all.clear()
        for stats in self._endpoints.values():
            stats.clear()
        self._start()
