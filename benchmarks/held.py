"""Figure 2: held streams, llmreplay against the bare aiohttp streaming handler.

At each level (1,000 / 5,000 / 10,000 concurrent streams by default) both servers stream K chunks with a
50 ms time to first token, a 50 ms gap and no jitter; the stream client (its own process, core 1) reports
the inter-chunk timing error |actual − 50 ms|, the TTFT error, the streams completed and its own timer
lateness, while this process samples the server's RSS (VmRSS of the server and its workers). For llmreplay
it also reads the server's own account of how late its writes left (``llmreplay_frame_lateness_seconds``
from ``/metrics``): what the client sees, less the kernel and the client.

    python -m benchmarks.held [--levels 1000,5000,10000] [--events 40] [--workers-level 10000]
"""

from __future__ import annotations

import argparse
import dataclasses
import threading
import time
import urllib.request
from typing import Any

from prometheus_client.parser import text_string_to_metric_families

from benchmarks.harness import (
    Row,
    Server,
    baseline_cmd,
    free_port,
    llmreplay_cmd,
    llmreplay_env,
    serve,
    supports_workers,
    table,
)
from benchmarks.streams import run_client

GAP_MS = 50.0
TTFT_MS = 50.0
CHUNK = 10
BODY = '{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Hello {i}"}]}'
RSS_TARGET_KIB = 30.0
P99_TARGET_MS = 30.0
P99_RATIO_TARGET = 1.5


@dataclasses.dataclass
class Held:
    """One stream-client run against one server, with the server's memory around it."""

    stats: dict[str, Any]
    rss_before_kib: int
    rss_peak_kib: int
    server_lateness: dict[str, float] | None = None
    """Upper bounds (ms) of the buckets holding the p50 and p99 of the server's write lateness."""

    @property
    def kib_per_stream(self) -> float:
        # The client opens all N connections before the first request, so the server holds all N at once even
        # when a late server has not started every stream yet (peak_held counts only streams in progress).
        return (self.rss_peak_kib - self.rss_before_kib) / max(1, int(self.stats["connected"]))

    def gap(self, key: str) -> float:
        return float(self.stats["gap_error_ms"][key])


def _drive(server: Server, url: str, n: int, events: int, ramp_s: float) -> Held:
    # One short stream first, so that imports and caches warmed on first use are not counted per stream.
    run_client(url, 1, body=BODY, gap_ms=GAP_MS, ttft_ms=TTFT_MS, ramp_s=0)
    time.sleep(0.2)
    before = server.rss_kib()
    peak = before
    stop = threading.Event()

    def sample() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, server.rss_kib())
            stop.wait(0.1)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    try:
        stats = run_client(url, n, body=BODY, gap_ms=GAP_MS, ttft_ms=TTFT_MS, ramp_s=ramp_s, timeout=150)
    finally:
        stop.set()
        sampler.join()
    return Held(stats, before, peak)


def run_baseline(n: int, events: int, ramp_s: float) -> Held:
    port = free_port()
    with serve(baseline_cmd(port), port) as s:
        url = f"{s.url}/stream?k={events}&gap_ms={GAP_MS:g}&ttft_ms={TTFT_MS:g}"
        return _drive(s, url, n, events, ramp_s)


def run_llmreplay(n: int, events: int, ramp_s: float, workers: int = 1) -> Held:
    port = free_port()
    extra = ["--workers", str(workers)] if workers > 1 else []
    env = llmreplay_env(TTFT_MS, GAP_MS, 0, CHUNK, "abcdefghi " * events)
    # The client opens all N connections before it sends a request; on a busy machine accepting 5,000 takes
    # longer than the slow-client guard's 5 s, which would close the first ones for want of a request line.
    # The bare handler has no such guard: this figure measures held streams, not the guard.
    env["LLMREPLAY_HEADER_TIMEOUT_S"] = "120"
    with serve(llmreplay_cmd(port, *extra), port, env=env) as s:
        held = _drive(s, f"{s.url}/v1/chat/completions", n, events, ramp_s)
        time.sleep(1.1)  # every worker moves its counts into the shared metrics once a second
        held.server_lateness = server_lateness(s.url)
        return held


def server_lateness(url: str) -> dict[str, float] | None:
    """p50 and p99 of ``llmreplay_frame_lateness_seconds`` as the bound (ms) of the bucket they fall in."""
    try:
        with urllib.request.urlopen(f"{url}/metrics", timeout=10) as r:
            text = r.read().decode()
    except OSError:
        return None
    buckets: list[tuple[float, float]] = []
    for family in text_string_to_metric_families(text):
        if family.name == "llmreplay_frame_lateness_seconds":
            buckets = sorted((float(x.labels["le"]), x.value) for x in family.samples if x.name.endswith("_bucket"))
    total = buckets[-1][1] if buckets else 0
    if not total:
        return None

    def bound(q: float) -> float:
        return next(le for le, cum in buckets if cum >= q * total) * 1000

    return {"p50": bound(0.5), "p99": bound(0.99), "writes": total}


def rows_for(n: int, ours: Held, base: Held | None, label: str = "", kind: str = "") -> list[Row]:
    """``kind``: which target applies: "ratio" (1,000), "p99" (5,000), "memory" (10,000 and --workers 2)."""
    kind = kind or ("ratio" if n <= 1000 else "p99" if n <= 5000 else "memory")
    tag = f"2. {n:,} streams{label}"
    complete = ours.stats["completed"] == n
    p99 = ours.gap("p99")
    rows = []
    if kind == "ratio":
        target, met = f"≤ {P99_RATIO_TARGET}× baseline", bool(base and p99 <= P99_RATIO_TARGET * base.gap("p99"))
    elif kind == "p99":
        target, met = f"≤ {P99_TARGET_MS:g} ms, all complete", complete and p99 <= P99_TARGET_MS
    else:
        target, met = "reported", None
    b: dict[str, Any] = base.stats if base else {}
    rows.append(Row(f"{tag}: gap error p50", ours.gap("p50"), base.gap("p50") if base else None, "ms"))
    rows.append(Row(f"{tag}: gap error p99", p99, base.gap("p99") if base else None, "ms", target, met))
    rows.append(Row(f"{tag}: gap error max", ours.gap("max"), base.gap("max") if base else None, "ms"))
    rows.append(
        Row(
            f"{tag}: TTFT error p50 / p99",
            f"{ours.stats['ttft_error_ms']['p50']:.1f} / {ours.stats['ttft_error_ms']['p99']:.1f} ms",
            f"{b['ttft_error_ms']['p50']:.1f} / {b['ttft_error_ms']['p99']:.1f} ms" if b else None,
        )
    )
    rows.append(
        Row(
            f"{tag}: completed (peak held)",
            f"{ours.stats['completed']:,} ({ours.stats['peak_held']:,})",
            f"{b['completed']:,} ({b['peak_held']:,})" if b else None,
            target="all" if kind != "ratio" else "",
            met=complete if kind != "ratio" else None,
        )
    )
    rss_target = kind == "memory"
    rows.append(
        Row(
            f"{tag}: server RSS per held connection",
            ours.kib_per_stream,
            base.kib_per_stream if base else None,
            "KiB",
            f"≤ {RSS_TARGET_KIB:g} KiB" if rss_target else "",
            ours.kib_per_stream <= RSS_TARGET_KIB if rss_target else None,
        )
    )
    lat = ours.server_lateness
    if lat is not None:
        rows.append(
            Row(
                f"{tag}: server's own write lateness p50 / p99 (bucket)",
                f"≤ {lat['p50']:g} / ≤ {lat['p99']:g} ms",
                None,
            )
        )
    rows.append(
        Row(
            f"{tag}: client timer lateness p99",
            ours.stats["client_lateness_ms"]["p99"],
            b["client_lateness_ms"]["p99"] if b else None,
            "ms",
        )
    )
    return rows


def measure(levels: list[int], events: int, workers_level: int | None) -> tuple[list[Row], dict[str, Any]]:
    rows: list[Row] = []
    raw: dict[str, Any] = {}
    for n in levels:
        ramp = min(1.0, n / 5000)
        base = run_baseline(n, events, ramp)
        ours = run_llmreplay(n, events, ramp)
        raw[str(n)] = {"llmreplay": dataclasses.asdict(ours), "baseline": dataclasses.asdict(base)}
        rows += rows_for(n, ours, base)
    if workers_level:
        tag = f"2. {workers_level:,} streams, --workers 2"
        if supports_workers():
            ours = run_llmreplay(workers_level, events, min(1.0, workers_level / 5000), workers=2)
            raw[f"{workers_level}-workers2"] = dataclasses.asdict(ours)
            rows += rows_for(workers_level, ours, None, ", --workers 2", "memory")
        else:
            rows.append(Row(tag, "n/a (not supported yet)", None, target="all complete, ≤ 30 KiB", met=None))
    return rows, raw


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--levels", default="1000,5000,10000", help="comma-separated concurrent stream counts")
    ap.add_argument("--events", type=int, default=20, help="chunks per stream")
    ap.add_argument("--workers-level", type=int, default=10_000, help="also run this level with --workers 2 (0: skip)")
    args = ap.parse_args(argv)
    rows, _ = measure([int(x) for x in args.levels.split(",")], args.events, args.workers_level or None)
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
