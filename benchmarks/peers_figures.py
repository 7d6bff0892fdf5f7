"""Figures 1 and 2 for the peers, in the same run as llmreplay and the bare handler, and their tables.

Each peer is installed (``peers_install.py``), configured for the figure's reply and schedule
(``peers.py``), started on core 0 like llmreplay, and driven from core 1 by the figure's own load generator:
``wrk`` for figure 1 (``plain.drive``), the stream client for figure 2 (``held``). A peer that cannot be
installed, started or measured gets a row saying so; a peer that cannot hold the schedule gets "not
supported". Ratios are against the bare handler measured by the figure a moment before.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from importlib.metadata import version
from pathlib import Path
from typing import Any

from benchmarks import held, peers_tables, plain
from benchmarks.harness import Server, free_port, serve
from benchmarks.peers import STAND_IN, Outcome, Peer, Shape
from benchmarks.peers_install import PeerError, install
from benchmarks.peers_tables import AGAIN

PEER_MAX_STREAMS = 5000
"""Figure 2's levels the peers run at: the issue's 1,000 and 5,000 (10,000 is llmreplay's memory figure)."""


@contextlib.contextmanager
def started(peer: Peer, shape: Shape, root: Path) -> Iterator[tuple[Server, str]]:
    """The peer installed, configured for ``shape`` and listening; yields the server and its request URL."""
    try:
        home = install(peer, root)
    except PeerError as exc:
        raise PeerError(f"failed to install: {exc}") from None
    with tempfile.TemporaryDirectory(prefix="llmreplay-peer-") as work, contextlib.ExitStack() as stack:
        port = free_port()
        launch = peer.launch(home, Path(work), port, shape)
        try:
            server = stack.enter_context(serve(launch.cmd, port, env=launch.env))
            if launch.ready:
                launch.ready(server.url)
        except (RuntimeError, OSError) as exc:
            raise PeerError(f"failed to start: {str(exc).splitlines()[0][:200]}") from None
        yield server, server.url + launch.path


def attempt(peer: Peer, shape: Shape, root: Path, measure: Callable[[Server, str], Any]) -> Outcome:
    """``measure`` run against the started peer; any failure becomes the outcome's problem, never an error."""
    out = Outcome(peer.name, peer.version)
    if shape.stream and (why := peer.schedule(shape)):
        out.problem = f"not supported: {why}"
        return out
    try:
        with started(peer, shape, root) as (server, url):
            out.result = measure(server, url)
    except PeerError as exc:
        out.problem = str(exc)
    except Exception as exc:  # whatever a peer does wrong is its row, never the end of the run
        out.problem = f"failed to measure: {str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__}"
    return out


def check_reply(url: str, text: str) -> None:
    """One request first: a peer answering something else would be measured doing another job."""
    req = urllib.request.Request(url, json.dumps(plain.BODY).encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        body = json.loads(r.read())
    got = body["choices"][0]["message"]["content"]
    if got != text:
        raise ValueError(f"answers {got[:40]!r}, not the configured reply")


def run_plain(
    peers: Sequence[Peer],
    root: Path,
    duration: float,
    connections: int,
    drive: Callable[[str, float, int], dict[str, float]] = plain.drive,
) -> list[Outcome]:
    def measure(server: Server, url: str) -> dict[str, float]:
        check_reply(url, plain.FIG1_TEXT)
        return drive(url, duration, connections)

    return [attempt(p, Shape(plain.FIG1_TEXT), root, measure) for p in peers]


def stream_shape(events: int) -> Shape:
    """Figure 2's schedule, as ``held.run_llmreplay`` configures llmreplay."""
    return Shape("abcdefghi " * events, True, held.TTFT_MS, held.GAP_MS, held.CHUNK)


def run_held(peers: Sequence[Peer], root: Path, levels: Sequence[int], events: int) -> dict[int, list[Outcome]]:
    shape = stream_shape(events)
    out: dict[int, list[Outcome]] = {}
    for n in levels:
        ramp = min(1.0, n / 5000)  # as held.measure ramps

        def measure(server: Server, url: str, n: int = n, ramp: float = ramp) -> held.Held:
            return held._drive(server, url, n, events, ramp)

        out[n] = [attempt(p, shape, root, measure) for p in peers]
    return out


def bare_again() -> Peer:
    """The bare handler once more after the peers: on a shared machine its drift says how far apart runs are."""
    return dataclasses.replace(STAND_IN, name=AGAIN, version=f"aiohttp {version('aiohttp')}")


def server_versions() -> dict[str, str]:
    return {"llmreplay": version("llmreplay"), "bare aiohttp handler": f"aiohttp {version('aiohttp')}"}


def node_version() -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        return subprocess.run(["node", "--version"], capture_output=True, text=True, check=True).stdout.strip()
    return "no node"


def versions_of(peers: Sequence[Peer]) -> dict[str, str]:
    """What each server in the tables is, with the runtime a peer brings (Node for npm, this Python for PyPI)."""
    node, py = node_version(), ".".join(map(str, sys.version_info[:2]))
    runtime = {"npm": f" (Node {node})", "pypi": f" (Python {py})"}
    return server_versions() | {p.name: p.version + runtime.get(p.registry, "") for p in peers}


def section(
    figure: int,
    raw: dict[str, Any],
    peers: Sequence[Peer],
    root: Path,
    *,
    duration: float,
    connections: int,
    events: int,
) -> str:
    """The peers' table for ``figure`` (1 or 2), run with the sizes the figure ran with; adds their raw to ``raw``."""
    versions = versions_of(peers)
    if figure == 1:
        outcomes = run_plain(peers, root, duration, connections)
        again = attempt(
            bare_again(), Shape(plain.FIG1_TEXT), root, lambda server, url: plain.drive(url, duration, connections)
        )
        outcomes.append(again)
        raw["peers"] = peers_tables.raw_of(outcomes)
        return peers_tables.plain_table(raw, outcomes, versions)
    levels = sorted(int(k) for k in raw if k.isdigit() and int(k) <= PEER_MAX_STREAMS)
    by_level = run_held([*peers, bare_again()], root, levels, events)
    raw["peers"] = {str(n): peers_tables.raw_of(o) for n, o in by_level.items()}
    return peers_tables.held_table(raw, by_level, versions)
