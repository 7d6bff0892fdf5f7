"""Figure 5: cassette load time and memory per interaction, against a bare msgpack read of the same file.

Uses ``cassette_load``'s realistic cassette (half plain chat completions, half ~100-event streams). The
baseline is ``msgpack.Unpacker`` over the same bytes, keeping every decoded object with no conversion to
the cassette model: what decoding the whole file costs. llmreplay's loader leaves stream events encoded
until first used, so it can come in under it.

    python -m benchmarks.cassette [--interactions 10000]
"""

from __future__ import annotations

import argparse
import gc
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import msgpack

from benchmarks.cassette_load import TARGET_S, memory_per_interaction, sample_interactions
from benchmarks.cassette_load import measure as measure_load
from benchmarks.harness import SERVER_CORE, Row, table
from llmreplay.cassettes.store import new_header, save


def bare_load_s(path: Path, repeats: int = 5) -> float:
    best = float("inf")
    for _ in range(repeats):
        gc.collect()
        start = time.perf_counter()
        objs = list(msgpack.Unpacker(open(path, "rb"), raw=False))  # noqa: SIM115 - closed with the list
        best = min(best, time.perf_counter() - start)
        del objs
    return best


def measure(interactions: int, events: int = 100) -> tuple[list[Row], dict[str, Any]]:
    # Loaded in this process, on the server core, as a server would load it.
    affinity = os.sched_getaffinity(0)
    if len(affinity) > 1:
        os.sched_setaffinity(0, {int(SERVER_CORE)})
    try:
        return _measure(interactions, events)
    finally:
        os.sched_setaffinity(0, affinity)


def _measure(interactions: int, events: int) -> tuple[list[Row], dict[str, Any]]:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.msgpack"
        save(path, new_header("https://api.openai.com"), sample_interactions(interactions, events))
        best, count = measure_load(path)
        base = bare_load_s(path)
        per = memory_per_interaction(path)
        size = path.stat().st_size
    tag = f"5. cassette of {count:,} interactions ({size / 1e6:.0f} MB)"
    rows = [
        Row(f"{tag}: load time", best * 1000, base * 1000, "ms", f"≤ {TARGET_S * 1000:g} ms", best <= TARGET_S),
        Row(f"{tag}: memory per interaction", per / 1024, None, "KiB"),
    ]
    return rows, {"load_s": best, "bare_msgpack_s": base, "bytes_per_interaction": per, "file_bytes": size}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--interactions", type=int, default=10_000)
    args = ap.parse_args(argv)
    rows, _ = measure(args.interactions)
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
