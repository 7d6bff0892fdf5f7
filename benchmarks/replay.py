"""Figure 3: replay of a recorded cassette, per-event error against the recorded offsets.

Builds a cassette of N distinct chat-completion streams recorded at irregular offsets (gaps of 5-80 ms,
from ``replay_timing.build``), serves it with ``llmreplay serve --cassettes`` on core 0 and replays all N
at once with the stream client on core 1. The baseline is the bare aiohttp handler writing the same
offsets (``/replay/{i}``). Each event's arrival, measured from the moment its request was sent, is
compared with its recorded offset.

    python -m benchmarks.replay [--streams 1000] [--events 40]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path
from typing import Any

from benchmarks.harness import Row, baseline_cmd, free_port, llmreplay_cmd, pct, serve, table
from benchmarks.replay_timing import build
from benchmarks.streams import run_client

P99_TARGET_MS = 2.0
BODY = '{"model":"gpt-4o","stream":true,"messages":[{"role":"user","content":"prompt {i}"}]}'


def event_errors(dump: Path, offsets: list[list[int]]) -> list[float]:
    """|arrival − recorded offset| in ms for every event of every stream (stream i answers prompt i)."""
    arrivals: list[list[int]] = json.loads(dump.read_text())
    return [abs(a - r) / 1000 for i, arr in enumerate(arrivals) for a, r in zip(arr, offsets[i], strict=False)]


def _stats(errors: list[float], stats: dict[str, Any]) -> dict[str, Any]:
    return {
        "p50": pct(errors, 0.5),
        "p99": pct(errors, 0.99),
        "max": max(errors, default=float("nan")),
        "events": len(errors),
        "completed": stats["completed"],
        "client_lateness_p99": stats["client_lateness_ms"]["p99"],
    }


def measure(streams: int, events: int) -> tuple[list[Row], dict[str, Any]]:
    ramp = min(1.0, streams / 2000)
    with tempfile.TemporaryDirectory() as tmp:
        offsets = build(Path(tmp) / "bench.msgpack", streams, events, random.Random(7))
        (Path(tmp) / "offsets.json").write_text(json.dumps(offsets))
        dump = Path(tmp) / "arrivals.json"
        port = free_port()
        with serve(baseline_cmd(port, "--offsets", str(Path(tmp) / "offsets.json")), port) as s:
            run_client(f"{s.url}/replay/{{i}}", 1, body=BODY, ramp_s=0)  # warm-up
            st = run_client(f"{s.url}/replay/{{i}}", streams, body=BODY, ramp_s=ramp, dump=str(dump))
            base = _stats(event_errors(dump, offsets), st)
        port = free_port()
        cmd = llmreplay_cmd(port, "--cassettes", tmp)
        with serve(cmd, port, env={"LLMREPLAY_QUIET": "1"}) as s:
            run_client(f"{s.url}/v1/chat/completions", 1, body=BODY, ramp_s=0)  # warm-up
            st = run_client(f"{s.url}/v1/chat/completions", streams, body=BODY, ramp_s=ramp, dump=str(dump))
            ours = _stats(event_errors(dump, offsets), st)
    tag = f"3. replay, {streams:,} streams"
    rows = [
        Row(f"{tag}: event offset error p50", ours["p50"], base["p50"], "ms"),
        Row(
            f"{tag}: event offset error p99",
            ours["p99"],
            base["p99"],
            "ms",
            f"≤ {P99_TARGET_MS:g} ms",
            ours["p99"] <= P99_TARGET_MS,
        ),
        Row(f"{tag}: event offset error max", ours["max"], base["max"], "ms"),
        Row(f"{tag}: completed", f"{ours['completed']:,}", f"{base['completed']:,}"),
        Row(f"{tag}: client timer lateness p99", ours["client_lateness_p99"], base["client_lateness_p99"], "ms"),
    ]
    return rows, {"llmreplay": ours, "baseline": base}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--events", type=int, default=40)
    args = ap.parse_args(argv)
    rows, _ = measure(args.streams, args.events)
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
