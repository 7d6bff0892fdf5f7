"""Run the benchmarks of issue 7 and print one Markdown table per figure, each against its baseline.

    python -m benchmarks                 # all five figures, the full sizes (under 10 minutes)
    python -m benchmarks --quick         # smaller sizes (under 2 minutes)
    python -m benchmarks --only 2,3      # some figures
    python -m benchmarks --write-doc     # also rewrite the results section of docs/performance.md
    python -m benchmarks --peers         # figures 1 and 2 also for the peers (aimock, mock-llm, fakellm, llmock)

Servers run on core 0, load generators on core 1 (taskset). A missed target is marked **NO**; the exit
code is 0 unless a figure could not be measured at all.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks import cassette, held, peers, peers_figures, plain, proxy, replay
from benchmarks.harness import ROOT, Row, raise_fd_limit, supports_workers, table
from benchmarks.peers_install import default_root

DOC = ROOT / "docs" / "performance.md"
START, END = "<!-- results:start -->", "<!-- results:end -->"
TITLES = {
    1: "1. Non-stream chat completions (wrk, 64 connections, zero delay)",
    2: "2. Held streams (50 ms TTFT, 50 ms gap, no jitter)",
    3: "3. Replay of a recorded cassette",
    4: "4. Record proxy overhead",
    5: "5. Cassette load",
}
PLAIN_SECONDS = {True: 3, False: 10}
CONNECTIONS = 64
EVENTS = 20
PEER_FIGURES = (1, 2)


def figures(quick: bool) -> dict[int, Callable[[], tuple[list[Row], dict[str, Any]]]]:
    if quick:
        return {
            1: lambda: plain.measure(duration=PLAIN_SECONDS[True], connections=CONNECTIONS),
            2: lambda: held.measure([500, 1000], events=EVENTS, workers_level=1000),
            3: lambda: replay.measure(streams=200, events=30),
            4: lambda: proxy.measure(rounds_single=20, rounds_many=1, events=20),
            5: lambda: cassette.measure(interactions=2000),
        }
    return {
        1: lambda: plain.measure(duration=PLAIN_SECONDS[False], connections=CONNECTIONS),
        2: lambda: held.measure([1000, 5000, 10_000], events=EVENTS, workers_level=10_000),
        3: lambda: replay.measure(streams=1000, events=40),
        4: lambda: proxy.measure(rounds_single=100, rounds_many=6, events=20),
        5: lambda: cassette.measure(interactions=10_000),
    }


def machine() -> str:
    cpu = "unknown CPU"
    try:
        m = re.search(r"model name\s*:\s*(.+)", Path("/proc/cpuinfo").read_text())
        cpu = m.group(1).strip() if m else cpu
    except OSError:
        pass
    system = f"{platform.system()} {platform.release()}"
    return f"{os.cpu_count()} cores ({cpu}), Python {platform.python_version()}, {system}"


def write_doc(section: str) -> None:
    text = DOC.read_text() if DOC.exists() else f"# Performance\n\n{START}\n{END}\n"
    if START not in text:
        text += f"\n{START}\n{END}\n"
    head, rest = text.split(START, 1)
    tail = rest.split(END, 1)[1] if END in rest else ""
    DOC.write_text(f"{head}{START}\n{section}\n{END}{tail}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller sizes, under 2 minutes")
    ap.add_argument("--only", default="", help="comma-separated figure numbers (1-5)")
    ap.add_argument("--write-doc", action="store_true", help=f"rewrite the results section of {DOC.relative_to(ROOT)}")
    ap.add_argument("--json", type=Path, help="also write the raw measurements here")
    ap.add_argument(
        "--peers",
        nargs="?",
        const="all",
        default="",
        help="run figures 1 and 2 also for the peers, all or those named (aimock,mock-llm,fakellm,llmock),"
        " installing them first at their pinned versions",
    )
    ap.add_argument("--peers-dir", type=Path, default=default_root(), help="where the peers are installed")
    args = ap.parse_args(argv)
    try:
        rivals = peers.select(args.peers) if args.peers else []
    except ValueError as exc:
        ap.error(str(exc))
    raise_fd_limit()
    wanted = [int(x) for x in args.only.split(",") if x.strip()] or [1, 2, 3, 4, 5]
    command = "python -m benchmarks" + (" " + " ".join(argv if argv is not None else sys.argv[1:])).rstrip()
    started = time.monotonic()
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        f"Run {now} · {machine()}",
        f"Command: `{command}` · server on core 0, load generator on core 1"
        f" · `--workers`: {'supported' if supports_workers() else 'not supported yet'}",
        "",
    ]
    print("\n".join(out), flush=True)
    raw: dict[str, Any] = {}
    failed = False
    run = figures(args.quick)
    for n in wanted:
        t = time.monotonic()
        try:
            rows, raw[str(n)] = run[n]()
            body = table(rows)
            if rivals and n in PEER_FIGURES:
                sizes = {"duration": PLAIN_SECONDS[args.quick], "connections": CONNECTIONS, "events": EVENTS}
                peer_table = peers_figures.section(n, raw[str(n)], rivals, args.peers_dir, **sizes)
                body += f"\n\nPeers, in the same run:\n\n{peer_table}"
        except Exception as exc:  # one broken figure must not hide the others
            failed = True
            body = f"figure {n} could not be measured: {exc}"
            traceback.print_exc()
        section = f"### {TITLES[n]}\n\n{body}\n\n({time.monotonic() - t:.0f} s)\n"
        print(section, flush=True)
        out.append(section)
    total = f"Total: {time.monotonic() - started:.0f} s"
    print(total)
    out.append(total)
    if args.json:
        args.json.write_text(json.dumps(raw, indent=1, default=str))
    if args.write_doc:
        write_doc("\n".join(out))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
