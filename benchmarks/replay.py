"""Figure 3: replay of a recorded cassette, per-event error against the recorded offsets.

Builds a cassette of N distinct chat-completion streams recorded at irregular offsets (gaps of 5-80 ms,
from ``replay_timing.build``), serves it with ``llmreplay serve --cassettes`` on core 0 and replays all N
at once with the stream client on core 1. The baseline is the bare aiohttp handler writing the same
offsets (``/replay/{i}``). Each event's arrival, measured from the moment its request was sent, is
compared with its recorded offset.

Then replayed plain answers (issue 23's target 2): figure 1's request under wrk, answered from a cassette
holding one recorded chat completion, replayed with ``--speed 0`` (no recorded delay), against the bare
handler's requests/s.

    python -m benchmarks.replay [--streams 1000] [--events 40] [--duration 10]
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
from pathlib import Path
from typing import Any

from benchmarks import plain
from benchmarks.harness import Row, baseline_cmd, free_port, llmreplay_cmd, pct, serve, table
from benchmarks.replay_timing import build, build_plain
from benchmarks.streams import run_client

P99_TARGET_MS = 2.0
PLAIN_RATIO = 0.8
CONNECTIONS = 64
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


def measure_plain(duration: float, connections: int = CONNECTIONS) -> tuple[list[Row], dict[str, Any]]:
    """Replayed plain answers under wrk against the bare handler (target 2: reported)."""
    port = free_port()
    with serve(baseline_cmd(port), port) as s:
        base = plain.drive(f"{s.url}/v1/chat/completions", duration, connections)
    with tempfile.TemporaryDirectory() as tmp:
        build_plain(Path(tmp) / "plain.msgpack", plain.BODY)
        port = free_port()
        with serve(llmreplay_cmd(port, "--cassettes", tmp, "--speed", "0"), port, env={"LLMREPLAY_QUIET": "1"}) as s:
            ours = plain.drive(f"{s.url}/v1/chat/completions", duration, connections)
    tag = f"3. replayed plain answers, {connections} connections"
    rows = [
        Row(
            f"{tag}: requests/s",
            ours["rps"],
            base["rps"],
            "req/s",
            f"≥ {PLAIN_RATIO}× baseline (reported)",
            ours["rps"] >= PLAIN_RATIO * base["rps"],
        ),
        Row(f"{tag}: latency p50", ours.get("p50", float("nan")), base.get("p50", float("nan")), "ms"),
        Row(f"{tag}: latency p99", ours.get("p99", float("nan")), base.get("p99", float("nan")), "ms"),
    ]
    if ours["non2xx"] or ours["socket_errors"]:
        rows.append(Row(f"{tag}: non-2xx / socket errors", f"{ours['non2xx']:.0f} / {ours['socket_errors']:.0f}"))
    return rows, {"llmreplay": ours, "baseline": base}


def measure(streams: int, events: int, plain_s: float | None = None) -> tuple[list[Row], dict[str, Any]]:
    """Figure 3; ``plain_s`` seconds of wrk for replayed plain answers (None: figure 1's, 3 s at --quick's sizes)."""
    if plain_s is None:
        plain_s = 10.0 if streams >= 1000 else 3.0
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
    plain_rows, plain_raw = measure_plain(plain_s) if plain_s > 0 else ([], {})
    return rows + plain_rows, {"llmreplay": ours, "baseline": base, "plain": plain_raw}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--streams", type=int, default=1000)
    ap.add_argument("--events", type=int, default=40)
    ap.add_argument("--duration", type=float, default=None, help="seconds of wrk for replayed plain answers (0: none)")
    args = ap.parse_args(argv)
    rows, _ = measure(args.streams, args.events, args.duration)
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
