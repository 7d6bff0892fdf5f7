"""The counters of one endpoint (or of all endpoints together): gauges, counts, histograms, series.

Every hook here is O(1): a few attribute updates, one bounded dict increment,
one ring-buffer slot. Bounded dicts (status codes, fault kinds) send new keys
past their cap to :data:`OTHER`.
"""

from __future__ import annotations

from llmreplay.metrics.histogram import LogHistogram
from llmreplay.metrics.series import Series

OTHER = "other"
MAX_STATUS_CODES = 32
MAX_FAULT_KINDS = 16
MAX_KIND_LENGTH = 64


class Stats:
    """What the metrics know about one endpoint; the totals are one more instance."""

    __slots__ = (
        "active",
        "chunks",
        "errors",
        "faults",
        "input_tokens",
        "output_tokens",
        "peak_rps",
        "peak_streams",
        "rate_limited",
        "requests",
        "series",
        "status_codes",
        "streamed",
        "streams",
        "total",
        "ttfb",
    )

    def __init__(self, window: int) -> None:
        self.series = Series(window)
        self.ttfb = LogHistogram()
        self.total = LogHistogram()
        self.active = 0
        self.streams = 0
        self.status_codes: dict[int | str, int] = {}
        self.faults: dict[str, int] = {}
        self.clear()

    def clear(self) -> None:
        """Zero everything but the gauges: requests in flight when this runs still finish later."""
        self.series.reset()
        self.ttfb.reset()
        self.total.reset()
        self.status_codes.clear()
        self.faults.clear()
        self.requests = 0
        self.streamed = 0
        """Requests that asked for a stream (``streams`` is those open now)."""
        self.errors = 0
        self.rate_limited = 0
        self.chunks = 0
        self.output_tokens = 0
        self.input_tokens = 0
        self.peak_rps = 0
        self.peak_streams = self.streams

    def started(self, second: int, stream: bool) -> None:
        series = self.series
        i = series.slot(second, self.streams)
        self.requests += 1
        self.active += 1
        n = series.requests[i] + 1
        series.requests[i] = n
        if n > self.peak_rps:
            self.peak_rps = n
        if stream:
            self.streamed += 1
            level = self.streams + 1
            self.streams = level
            if level > series.max_streams[i]:
                series.max_streams[i] = level
            if level > self.peak_streams:
                self.peak_streams = level

    def first_byte(self, second: int, bucket: int, ttfb_s: float) -> None:
        """``bucket`` < 0 skips the histogram (the totals merge theirs from the endpoints when read)."""
        if bucket >= 0:
            self.ttfb.add(bucket, ttfb_s)
        series = self.series
        i = series.slot(second, self.streams)
        series.ttfb_count[i] += 1
        if ttfb_s > 0.0:
            series.ttfb_sum[i] += ttfb_s

    def finished(
        self, second: int, status: int, stream: bool, bucket: int, total_s: float, input_tokens: int, output_tokens: int
    ) -> None:
        series = self.series
        i = series.slot(second, self.streams)
        # Clamped at zero: a finish without its start (or after a reset) must not drive a gauge negative.
        if self.active > 0:
            self.active -= 1
        if stream and self.streams > 0:
            self.streams -= 1
        codes = self.status_codes
        key: int | str = status if status in codes or len(codes) < MAX_STATUS_CODES - 1 else OTHER
        codes[key] = codes.get(key, 0) + 1
        if status >= 400:
            self.errors += 1
            series.errors[i] += 1
        if output_tokens > 0:
            self.output_tokens += output_tokens
            series.output_tokens[i] += output_tokens
        if input_tokens > 0:
            self.input_tokens += input_tokens
        if bucket >= 0:
            self.total.add(bucket, total_s)

    def denied(self, second: int) -> None:
        self.rate_limited += 1
        series = self.series
        series.rate_limited[series.slot(second, self.streams)] += 1

    def fault(self, second: int, kind: str) -> None:
        faults = self.faults
        if kind not in faults and (len(faults) >= MAX_FAULT_KINDS - 1 or len(kind) > MAX_KIND_LENGTH):
            kind = OTHER
        faults[kind] = faults.get(kind, 0) + 1
        series = self.series
        series.faults[series.slot(second, self.streams)] += 1
