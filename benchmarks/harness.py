"""What every benchmark shares: ports, pinned server processes, the fd limit, RSS, percentiles, table rows.

Servers run on core 0 and load generators on core 1 (``taskset``), so that on a two-core machine the
load generator never competes with the server it measures. Without ``taskset`` nothing is pinned.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import resource
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

SERVER_CORE = "0"
CLIENT_CORE = "1"
FD_LIMIT = 65_536
ROOT = Path(__file__).resolve().parent.parent


def raise_fd_limit() -> int:
    """Raise this process's open-file limit as far as the hard limit allows; returns the new soft limit."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = FD_LIMIT if hard == resource.RLIM_INFINITY else min(FD_LIMIT, hard)
    if soft < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def pinned(cmd: Sequence[str], core: str) -> list[str]:
    """``cmd`` run on ``core`` when taskset exists and the machine has more than one core."""
    if shutil.which("taskset") and (os.cpu_count() or 1) > 1:
        return ["taskset", "-c", core, *cmd]
    return list(cmd)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, proc: subprocess.Popen[bytes] | None = None, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode} before listening on {port}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listening on port {port} after {timeout:.0f} s")


@dataclasses.dataclass
class Server:
    """A server subprocess on its own port."""

    proc: subprocess.Popen[bytes]
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def rss_kib(self) -> int:
        """Resident memory of the server and every process under it (workers), in KiB."""
        return sum(_vm_rss(pid) for pid in _tree(self.proc.pid))


def _vm_rss(pid: int) -> int:
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (taskset execs in place, so the pid is the server's)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(entry))
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        todo.extend(children.get(p, []))
    return out


def _high_fd_limit() -> None:
    raise_fd_limit()


@contextlib.contextmanager
def serve(
    cmd: Sequence[str], port: int, env: dict[str, str] | None = None, core: str = SERVER_CORE
) -> Iterator[Server]:
    """Start ``cmd`` (which must listen on ``port``) pinned to ``core``; stop it on exit."""
    full_env = {**os.environ, "PYTHONUNBUFFERED": "1", **(env or {})}
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), full_env.get("PYTHONPATH", "")]))
    proc = subprocess.Popen(
        pinned(cmd, core),
        env=full_env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        preexec_fn=_high_fd_limit,
    )
    try:
        try:
            wait_port(port, proc)
        except RuntimeError as exc:
            err = proc.stderr.read().decode(errors="replace")[-2000:] if proc.poll() is not None and proc.stderr else ""
            raise RuntimeError(f"{exc}: {' '.join(cmd)}\n{err}") from None
        yield Server(proc, port)
    finally:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
        if proc.stderr:
            proc.stderr.close()


def llmreplay_cmd(port: int, *extra: str, command: str = "serve") -> list[str]:
    return [sys.executable, "-m", "llmreplay", command, "--port", str(port), "--quiet", *extra]


def floor_cmd(port: int, *extra: str) -> list[str]:
    """llmreplay's application with a fixed-body handler (``benchmarks.floor``)."""
    return [sys.executable, "-m", "benchmarks.floor", "--port", str(port), "--quiet", *extra]


def pipe_cmd(port: int, upstream_port: int) -> list[str]:
    """A TCP pipe on asyncio to ``upstream_port`` (``benchmarks.pipe``): figure 4's floor."""
    return [sys.executable, "-m", "benchmarks.pipe", "--port", str(port), "--upstream-port", str(upstream_port)]


def baseline_cmd(port: int, *extra: str) -> list[str]:
    return [sys.executable, "-m", "benchmarks.baseline", "--port", str(port), *extra]


def llmreplay_env(
    ttft_ms: float, gap_ms: float, jitter_ms: float = 0, chunk: int = 10, text: str = ""
) -> dict[str, str]:
    env = {
        "STREAM_INITIAL_DELAY_MS": str(ttft_ms),
        "STREAM_DELAY_MS": str(gap_ms),
        "STREAM_JITTER_MS": str(jitter_ms),
        "STREAM_CHUNK_SIZE": str(chunk),
        "LLMREPLAY_QUIET": "1",
        "TOOL_CALL_PROBABILITY": "0",
    }
    if text:
        env["DEFAULT_RESPONSE"] = text
    return env


def supports_workers() -> bool:
    out = subprocess.run(
        [sys.executable, "-m", "llmreplay", "serve", "--help"], capture_output=True, text=True, cwd=ROOT, check=False
    )
    return "--workers" in out.stdout


def pct(xs: Sequence[float], p: float) -> float:
    """The ``p``-quantile (0..1) by nearest rank; NaN for no data."""
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, max(0, round(p * len(s) + 0.5) - 1))]


def summary(xs: Sequence[float]) -> dict[str, float]:
    """A sample's median, p99, maximum and size, as the figures report them."""
    return {"p50": pct(xs, 0.5), "p99": pct(xs, 0.99), "max": max(xs, default=float("nan")), "n": len(xs)}


@dataclasses.dataclass
class Row:
    """One line of the results table: a figure, both values, and whether its target is met."""

    figure: str
    value: float | str
    baseline: float | str | None = None
    unit: str = ""
    target: str = ""
    met: bool | None = None
    higher_is_better: bool = False

    def ratio(self) -> str:
        if isinstance(self.value, int | float) and isinstance(self.baseline, int | float) and self.baseline:
            return f"{self.value / self.baseline:.2f}×"
        return "—"

    def cells(self) -> list[str]:
        met = "—" if self.met is None else ("yes" if self.met else "**NO**")
        value, base = _num(self.value, self.unit), _num(self.baseline, self.unit)
        return [self.figure, value, base, self.ratio(), self.target, met]


def _num(v: float | str | None, unit: str) -> str:
    if v is None:
        return "—"
    if isinstance(v, str):
        return v
    if v != v:  # NaN
        return "n/a"
    text = f"{v:,.0f}" if abs(v) >= 100 else f"{v:.2f}"
    return f"{text} {unit}".strip()


HEADER = ["figure", "llmreplay", "baseline", "ratio", "target", "met"]


def table(rows: Sequence[Row]) -> str:
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "|".join(["---", "---:", "---:", "---:", "---", "---"]) + "|"]
    lines += ["| " + " | ".join(r.cells()) + " |" for r in rows]
    return "\n".join(lines)
