"""Figure 1: non-stream chat completions under wrk, llmreplay against the bare aiohttp handler.

Both servers run on core 0 with zero configured delay; wrk (Debian's package, installed with apt-get when
missing) runs on core 1 with one thread and 64 connections, POSTing the same small chat request. A third
server, llmreplay's application with every handler answering the baseline's fixed body
(``benchmarks.floor``), gives the floor: the most any answer built through aiohttp's web layer could reach
(llmreplay's express lane, ``llmreplay/lane.py``, answers plain calls without it). A fourth, llmreplay with a
rules file whose one rule answers every call with a fixed text as long as a generated reply, gives issue 23's
target 2 for scripted rules (reported). A fifth, llmreplay with ``--seed``, gives target 1 for seeded replies:
the same request again within a second is written from the answer kept of it (``llmreplay/kept.py``).
The five run side by side and take turns under wrk (``ROUNDS``); each figure is the median of a server's turns.

    python -m benchmarks.plain [--duration 10] [--connections 64]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import re
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from benchmarks.harness import (
    CLIENT_CORE,
    Row,
    baseline_cmd,
    floor_cmd,
    free_port,
    llmreplay_cmd,
    llmreplay_env,
    pinned,
    serve,
    table,
)

BODY = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello!"}]}
TARGET_RATIO = 0.8
FIG1_TEXT = (
    "Here's what I found: the function returns early when the input is empty, so the loop never runs. "
    "Adding a guard at the top fixes it."
)
"""One of llmreplay's generated replies to figure 1's request: a scripted rule and the peers answer one as long."""
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0}


def ensure_wrk() -> str:
    """Path to wrk, installing Debian's package if it is missing."""
    found = shutil.which("wrk")
    if found:
        return found
    install = ["apt-get", "install", "-y", "-q", "wrk"]
    if subprocess.run(install, capture_output=True, check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], capture_output=True, check=False)
        subprocess.run(install, capture_output=True, check=False)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed and apt-get could not install it (apt-get install -y wrk)")
    return found


def parse_wrk(out: str) -> dict[str, float]:
    """Requests/s and latency percentiles (ms) from ``wrk --latency`` output."""
    res: dict[str, float] = {}
    m = re.search(r"Requests/sec:\s+([\d.]+)", out)
    if not m:
        raise RuntimeError(f"unexpected wrk output:\n{out}")
    res["rps"] = float(m.group(1))
    for p, value, unit in re.findall(r"^\s+(\d+(?:\.\d+)?)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M):
        res[f"p{float(p):g}"] = float(value) * _UNITS[unit]
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    res["non2xx"] = float(m.group(1)) if m else 0.0
    m = re.search(r"Socket errors:.*", out)
    res["socket_errors"] = float(sum(int(x) for x in re.findall(r"\d+", m.group(0)))) if m else 0.0
    return res


def drive(url: str, duration: float, connections: int, warm: bool = True) -> dict[str, float]:
    """wrk's figures for ``duration`` seconds of ``url``, after a second's warm-up unless ``warm`` is False."""
    wrk = ensure_wrk()
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(json.dumps(BODY))}\n"
            'wrk.headers["Content-Type"] = "application/json"\n'
        )
        script = f.name
    try:
        base = [wrk, "-t1", f"-c{connections}", "-s", script, "--latency", url]
        if warm:
            subprocess.run(pinned([*base[:1], "-d1s", *base[1:]], CLIENT_CORE), capture_output=True, check=False)
        out = subprocess.run(
            pinned([*base[:1], f"-d{duration:g}s", *base[1:]], CLIENT_CORE), capture_output=True, text=True, check=True
        ).stdout
    finally:
        Path(script).unlink(missing_ok=True)
    return parse_wrk(out)


ROUNDS = 3
"""The five servers take turns, each for a third of the duration (rounded up to whole seconds) at a turn, and
each figure is the median of a server's turns: on a shared host the machine's pace drifts within a minute (the
floor, llmreplay's own server answering the bare handler's body, once came out at 0.64x the bare handler
measured just before it), and one server measured whole after another took that drift for a difference
between them."""


def _median(turns: list[dict[str, float]]) -> dict[str, float]:
    """Each figure's median over ``turns``; errors summed."""
    out = {k: statistics.median(t[k] for t in turns) for k in turns[0] if all(k in t for t in turns)}
    for k in ("non2xx", "socket_errors"):
        out[k] = sum(t.get(k, 0.0) for t in turns)
    return out


def measure(duration: float = 10.0, connections: int = 64) -> tuple[list[Row], dict[str, object]]:
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        # Issue 23's target 2 (reported): the same request answered by a scripted rule with a fixed reply.
        rules = Path(tmp) / "rules.json"
        rules.write_text(json.dumps({"rules": [{"name": "bench", "reply": {"text": FIG1_TEXT}}]}))
        commands = {
            "baseline": (baseline_cmd, (), None),
            "llmreplay": (llmreplay_cmd, (), llmreplay_env(0, 0)),
            "floor": (floor_cmd, (), llmreplay_env(0, 0)),
            "rule": (llmreplay_cmd, ("--rules", str(rules)), llmreplay_env(0, 0)),
            "seeded": (llmreplay_cmd, ("--seed", "1"), llmreplay_env(0, 0)),
        }
        urls = {}
        for name, (cmd, extra, env) in commands.items():
            port = free_port()
            server = stack.enter_context(serve(cmd(port, *extra), port, env=env))  # idle while the others are driven
            urls[name] = f"{server.url}/v1/chat/completions"
        turns: dict[str, list[dict[str, float]]] = {name: [] for name in urls}
        each = math.ceil(duration / ROUNDS)  # wrk takes whole seconds
        for turn in range(ROUNDS):
            for name, url in urls.items():
                turns[name].append(drive(url, each, connections, warm=turn == 0))
    base, ours, floor, ruled, seeded = (_median(turns[name]) for name in commands)
    rows = [
        Row(
            f"1. requests/s, {connections} connections",
            ours["rps"],
            base["rps"],
            "req/s",
            f"≥ {TARGET_RATIO}× baseline",
            ours["rps"] >= TARGET_RATIO * base["rps"],
        ),
        Row(
            f"1. requests/s, seeded (the same request again written from its kept answer), {connections} connections",
            seeded["rps"],
            base["rps"],
            "req/s",
            f"≥ {TARGET_RATIO}× baseline",
            seeded["rps"] >= TARGET_RATIO * base["rps"],
        ),
        Row(
            f"1. requests/s, answered by a scripted rule, {connections} connections",
            ruled["rps"],
            base["rps"],
            "req/s",
            f"≥ {TARGET_RATIO}× baseline (reported)",
            ruled["rps"] >= TARGET_RATIO * base["rps"],
        ),
        Row(
            "1. requests/s, the floor: llmreplay's application answering a fixed body through aiohttp",
            floor["rps"],
            base["rps"],
            "req/s",
        ),
        Row("1. latency p50", ours.get("p50", float("nan")), base.get("p50", float("nan")), "ms"),
        Row("1. latency p99", ours.get("p99", float("nan")), base.get("p99", float("nan")), "ms"),
        Row("1. latency p99, seeded", seeded.get("p99", float("nan")), base.get("p99", float("nan")), "ms"),
        Row("1. latency p99, a scripted rule", ruled.get("p99", float("nan")), base.get("p99", float("nan")), "ms"),
    ]
    for what, got in (("", ours), (", seeded", seeded), (", a scripted rule", ruled)):
        if got["non2xx"] or got["socket_errors"]:
            rows.append(Row(f"1. non-2xx / socket errors{what}", f"{got['non2xx']:.0f} / {got['socket_errors']:.0f}"))
    return rows, {"llmreplay": ours, "baseline": base, "floor": floor, "rule": ruled, "seeded": seeded}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--duration", type=float, default=10.0)
    ap.add_argument("--connections", type=int, default=64)
    args = ap.parse_args(argv)
    rows, _ = measure(args.duration, args.connections)
    print(table(rows))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
