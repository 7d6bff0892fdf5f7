"""Issue 19's 25 hostile and careless inputs, each against a freshly started server, with /health polled every 20 ms.

    python -m benchmarks.hostile                 # every case, the issue's sizes (2-6 minutes here)
    python -m benchmarks.hostile --quick         # smaller sizes
    python -m benchmarks.hostile --case 1,8,25   # some cases
    python -m benchmarks.hostile --json          # one JSON object per case instead of the table

One row per case: what was sent, the answer (status and error type, or exit code), the longest wait of a
/health poll while the case ran (``benchmarks.hostile_probe``, its own process), the server's RSS before and
after the case and its peak (VmRSS, VmHWM from /proc), the tracebacks in its log, and for the key cases
whether the key's first 20 characters (in each form it was sent) are in the cassette, the log or the /ws feed.
Servers run on core 0, this script and the probe on core 1. The exit code is 0 when every case ran.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.harness import CLIENT_CORE, raise_fd_limit
from benchmarks.hostile_bench import Bench, Case, Outcome
from benchmarks.hostile_input import CASES as INPUT
from benchmarks.hostile_kit import cassette_bytes, found_in
from benchmarks.hostile_recording import CASES as RECORDING
from benchmarks.hostile_requests import CASES as REQUESTS

CASES: dict[int, Case] = dict(sorted({**REQUESTS, **INPUT, **RECORDING}.items()))
COLUMNS = ["case", "sent", "answer", "/health longest", "RSS before → after (peak)", "tracebacks", "key in", "s"]


def _mib(kib: int) -> str:
    return f"{kib / 1024:,.0f}"


def run(n: int, quick: bool) -> dict[str, Any]:
    """Case ``n`` on its own servers in its own folder; its row."""
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=f"hostile-{n}-") as tmp, contextlib.ExitStack() as stack:
        bench = Bench(quick, Path(tmp), stack)
        try:
            outcome = CASES[n](bench)
        except Exception as exc:  # one broken case must not hide the others
            outcome = Outcome("(see the error)", f"could not run: {type(exc).__name__}: {exc}"[:300])
        row: dict[str, Any] = {"case": n, "sent": outcome.sent, "answer": outcome.answer}
        target = bench.target
        if target is not None and bench.probe is not None:
            row["rss_kib"] = [bench.rss_before, target.rss(), target.peak()]
            health = bench.probe.stop()
            row["health_longest_ms"] = round(health.get("max_ms", 0), 1)
            row["health_polls"] = health.get("polls", 0)
            row["health_failed"] = len(health.get("failed", []))
        feed = bench.feed.close() if bench.feed is not None else b""
        stack.close()  # stop the servers, so their logs and cassettes are whole
        logs = b"".join(p.read_bytes() for p in Path(tmp).glob("*.log"))
        row["tracebacks"] = logs.count(b"Traceback")
        if outcome.forms is not None:
            cassette = cassette_bytes(bench.cassettes)
            row["key_in"] = {
                "cassette": found_in(outcome.forms, cassette),
                "log": found_in(outcome.forms, logs),
                "ws": found_in(outcome.forms, feed),
            }
    row["seconds"] = round(time.monotonic() - started, 1)
    return row


def cells(row: dict[str, Any]) -> list[str]:
    rss = row.get("rss_kib")
    memory = f"{_mib(rss[0])} → {_mib(rss[1])} ({_mib(rss[2])}) MiB" if rss else "—"
    health = f"{row['health_longest_ms']:,.0f} ms" if "health_longest_ms" in row else "—"
    if row.get("health_failed"):
        health += f" ({row['health_failed']} polls failed)"
    keys = row.get("key_in")
    where = ", ".join(k for k, v in keys.items() if v) or "nowhere" if keys else "—"
    return [
        str(row["case"]),
        row["sent"],
        row["answer"],
        health,
        memory,
        str(row["tracebacks"]),
        where,
        f"{row['seconds']:.0f}",
    ]


def table(rows: list[dict[str, Any]]) -> str:
    lines = ["| " + " | ".join(COLUMNS) + " |", "|---:|---|---|---:|---:|---:|---|---:|"]
    return "\n".join(lines + ["| " + " | ".join(c.replace("|", "\\|") for c in cells(r)) + " |" for r in rows])


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.hostile", description=__doc__.splitlines()[0])
    ap.add_argument("--case", default="", help="comma-separated case numbers (1-25) [all]")
    ap.add_argument("--quick", action="store_true", help="smaller sizes")
    ap.add_argument("--json", action="store_true", help="print one JSON object per case instead of the table")
    args = ap.parse_args(argv)
    wanted = [int(x) for x in args.case.split(",") if x.strip()] or list(CASES)
    unknown = [n for n in wanted if n not in CASES]
    if unknown:
        ap.error(f"no case {unknown}: the cases are 1-25")
    raise_fd_limit()
    if (os.cpu_count() or 1) > 1:
        with contextlib.suppress(OSError):
            os.sched_setaffinity(0, {int(CLIENT_CORE)})
    rows: list[dict[str, Any]] = []
    started = time.monotonic()
    for n in wanted:
        rows.append(run(n, args.quick))
        if args.json:
            print(json.dumps(rows[-1]), flush=True)
        else:
            print(f"case {n}: {rows[-1]['answer']} ({rows[-1]['seconds']:.0f} s)", file=sys.stderr, flush=True)
    if not args.json:
        print(table(rows))
        print(f"\n{len(rows)} cases in {time.monotonic() - started:.0f} s")
    return 1 if any(r["answer"].startswith("could not run") for r in rows) else 0


if __name__ == "__main__":
    raise SystemExit(main())
