"""Figure 4: what the record proxy adds to time to first and to last byte.

The upstream is the bare aiohttp streaming handler (``baseline.py``, K events 10 ms apart), pinned with the
client to core 1 so that it never competes with the proxy; ``llmreplay record --upstream`` runs alone on
core 0 and writes its cassette to a temporary folder. The stream client measures TTFB (first event) and
TTLB (last event) calling the upstream directly and then through the proxy, with 1 stream at a time (after
5), then, after a warm-up round of 200, with 200 concurrent streams started within 50 ms (a burst; direct and
through the proxy in turn, round by round, so that both see the machine's drift alike) and with 200 streams at
100 ms gaps arriving over a second (steady: all 200 open at once); the figures are the differences of the
percentiles. Beside them, the proxy's CPU time per proxied stream at 200 concurrent streams
(``/proc/<pid>/stat``, the recording of each stream included), which a busy machine moves far less than the
wall-clock figures. The single streams and the burst are also sent through the floor (``pipe.py``, a TCP pipe
on asyncio, on core 0 too), in the same turns: what a relay that does nothing but relay adds here.

    python -m benchmarks.proxy [--rounds 100] [--events 20]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from typing import Any

from benchmarks.harness import (
    CLIENT_CORE,
    Row,
    baseline_cmd,
    free_port,
    llmreplay_cmd,
    pipe_cmd,
    serve,
    summary,
    table,
)
from benchmarks.streams import run_client

GAP_MS = 10.0
TTFB_P99_TARGET_MS = {1: 2.0, 200: 5.0}
"""Issue 23's target 4: what the proxy may add to time to first byte at p99, alone and at 200 streams."""
BODY = '{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"Hello {i}"}]}'


def cpu_s(pid: int) -> float:
    """User and system CPU time of process ``pid`` so far, in seconds."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


STEADY_GAP_MS, STEADY_RAMP_S = 100.0, 1.0
"""The steady run: the same 200 streams at a provider's pace (100 ms gaps, 2 s a stream) arriving over one
second, so that all 200 are open at once for a second, as in a load test recorded through the proxy; the burst
above asks the proxy to start 200 streams in 50 ms (4,000 a second)."""


def measure(rounds_single: int, rounds_many: int, events: int, many: int = 200) -> tuple[list[Row], dict[str, Any]]:
    raw: dict[str, Any] = {}
    query = f"/v1/chat/completions?k={events}&gap_ms={GAP_MS:g}"
    steady = f"/v1/chat/completions?k={events}&gap_ms={STEADY_GAP_MS:g}"
    up_port = free_port()
    with serve(baseline_cmd(up_port), up_port, core=CLIENT_CORE) as up, tempfile.TemporaryDirectory() as tmp:
        port, pipe_port = free_port(), free_port()
        cmd = llmreplay_cmd(port, "--upstream", up.url, "--cassettes", tmp, "--cassette", "bench", command="record")
        with (
            serve(cmd, port, env={"LLMREPLAY_QUIET": "1"}) as proxy,
            serve(pipe_cmd(pipe_port, up.port), pipe_port) as pipe,
        ):
            urls = {"direct": up.url, "proxy": proxy.url, "pipe": pipe.url}
            for label, base_url in urls.items():
                # One stream at a time first, its pool warmed by a few: after a round of 200, the 200 idle pooled
                # connections expire together 15 s later (the keep-alive), and closing them takes the loop's time
                # (~5-10 ms), which would fall on these streams (docs/performance.md, "The relay").
                run_client(base_url + query, 1, body=BODY, gap_ms=GAP_MS, ramp_s=0, rounds=5)
                raw[f"{label}-1"] = run_client(
                    base_url + query, 1, body=BODY, gap_ms=GAP_MS, ramp_s=0, rounds=rounds_single
                )
            for base_url in urls.values():
                # Warm-up: as many streams as the concurrent run, so that the proxy's pool holds a connection to
                # the upstream for each; opening them (~0.1 ms of CPU each) is then not in the measured ramp
                # (docs/performance.md, "Record proxy at scale").
                run_client(base_url + query, many, body=BODY, gap_ms=GAP_MS, ramp_s=0.05)
            time.sleep(0.5)  # the warm-up's recordings are made and written after its last byte
            pids = {"proxy": proxy.proc.pid, "pipe": pipe.proc.pid}
            burst, cpu = _bursts(urls, query, many, rounds_many, pids)
            for label, got in burst.items():
                raw[f"{label}-{many}"] = got
            for label, spent in cpu.items():
                raw[f"{label}-cpu-ms-per-stream"] = spent * 1000 / (many * rounds_many)
            for label in ("direct", "proxy"):
                base_url = urls[label]
                time.sleep(0.5)
                raw[f"{label}-steady"] = run_client(
                    base_url + steady, many, body=BODY, gap_ms=STEADY_GAP_MS, ramp_s=STEADY_RAMP_S, rounds=rounds_many
                )
    rows: list[Row] = []
    for n in (1, many):
        d, p = raw[f"direct-{n}"], raw[f"proxy-{n}"]
        for what, key in (("TTFB", "ttft_ms"), ("TTLB", "ttlb_ms")):
            for q in ("p50", "p99"):
                added = p[key][q] - d[key][q]
                target = TTFB_P99_TARGET_MS.get(n)
                gated = what == "TTFB" and q == "p99" and target is not None
                rows.append(
                    Row(
                        f"4. record proxy, {n} concurrent: added {what} {q}",
                        added,
                        f"{d[key][q]:.2f} ms direct",
                        "ms",
                        f"≤ {target:g} ms" if gated else "",
                        added <= target if gated and target is not None else None,
                    )
                )
        rows.append(Row(f"4. record proxy, {n} concurrent: completed", f"{p['completed']:,}", f"{d['completed']:,}"))
        f = raw[f"pipe-{n}"]
        for q in ("p50", "p99"):
            added = f["ttft_ms"][q] - d["ttft_ms"][q]
            rows.append(Row(f"4. floor: a TCP pipe, {n} concurrent: added TTFB {q}", added, None, "ms"))
    d, p = raw["direct-steady"], raw["proxy-steady"]
    label = f"4. record proxy, {many} concurrent arriving over {STEADY_RAMP_S:g} s ({STEADY_GAP_MS:g} ms gaps)"
    for q in ("p50", "p99"):
        added = p["ttft_ms"][q] - d["ttft_ms"][q]
        gated = q == "p99"
        target = TTFB_P99_TARGET_MS[many]
        rows.append(
            Row(
                f"{label}: added TTFB {q}",
                added,
                f"{d['ttft_ms'][q]:.2f} ms direct",
                "ms",
                f"≤ {target:g} ms" if gated else "",
                added <= target if gated else None,
            )
        )
    rows.append(Row(f"{label}: completed", f"{p['completed']:,}", f"{d['completed']:,}"))
    cpu = raw["proxy-cpu-ms-per-stream"]
    rows.append(Row(f"4. record proxy, {many} concurrent: CPU per proxied stream", cpu, None, "ms"))
    rows.append(
        Row(f"4. floor: a TCP pipe, {many} concurrent: CPU per stream", raw["pipe-cpu-ms-per-stream"], None, "ms")
    )
    return rows, raw


def _bursts(
    urls: dict[str, str], query: str, many: int, rounds: int, pids: dict[str, int]
) -> tuple[dict[str, dict[str, Any]], dict[str, float]]:
    """The burst rounds, direct, through the proxy and through the pipe in turn, round by round: this machine's
    pace drifts over seconds (the same code's CPU per proxied stream moves from 0.95 to 1.5 ms between runs), and
    the sides of a difference must see the same drift (docs/performance.md, "The proxy's turns of the loop").
    Each side's figures are those of all its rounds' streams together; the CPU time of each process in ``pids``
    is counted over its own rounds, the proxy's each with the half second after it in which its recordings are
    made and written."""
    samples: dict[str, dict[str, list[float]]] = {label: {"ttft_ms": [], "ttlb_ms": []} for label in urls}
    completed = dict.fromkeys(urls, 0)
    cpu = dict.fromkeys(pids, 0.0)
    with tempfile.TemporaryDirectory() as tmp:
        dump = f"{tmp}/arrivals.json"
        for _ in range(rounds):
            for label, base_url in urls.items():
                pid = pids.get(label)
                before = cpu_s(pid) if pid is not None else 0.0
                res = run_client(base_url + query, many, body=BODY, gap_ms=GAP_MS, ramp_s=0.05, dump=dump)
                completed[label] += res["completed"]
                with open(dump) as f:
                    for arrivals in json.load(f):
                        if arrivals:
                            samples[label]["ttft_ms"].append(arrivals[0] / 1000)
                            samples[label]["ttlb_ms"].append(arrivals[-1] / 1000)
                if pid is not None:
                    if label == "proxy":
                        time.sleep(0.5)  # its recordings are made and written after the last byte
                    cpu[label] += cpu_s(pid) - before
    out = {
        label: {"completed": completed[label], **{k: summary(v) for k, v in got.items()}}
        for label, got in samples.items()
    }
    return out, cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=100, help="sequential single streams")
    ap.add_argument("--rounds-many", type=int, default=6, help="rounds of 200 concurrent streams, each side")
    ap.add_argument("--events", type=int, default=20)
    args = ap.parse_args(argv)
    rows, _ = measure(args.rounds, args.rounds_many, args.events)
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
