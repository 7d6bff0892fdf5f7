"""The peers: other LLM mock servers that figures 1 and 2 measure beside llmreplay, at pinned versions.

Each peer says how to start it on a port, answering every chat completion with a given reply and, for streams,
a given schedule (first chunk after TTFT, then one chunk of ``chunk`` characters every gap), in the way its own
README and source say it is configured. A peer that cannot hold a schedule says why instead (``schedule``); the
tables print that as "not supported". Installing them is ``peers_install.py``; measuring them
``peers_figures.py``.

The versions are the latest each registry had released when they were pinned (``npm view <pkg> versions``,
``pip index versions <pkg>``); a newer release is a deliberate bump here, so that two runs compare the same code.
"""

from __future__ import annotations

import dataclasses
import json
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.harness import baseline_cmd


@dataclasses.dataclass(frozen=True)
class Shape:
    """What every server in a figure is asked to answer."""

    text: str
    """The assistant's reply, the same for every server."""
    stream: bool = False
    ttft_ms: float = 0.0
    """Delay before the first chunk (streams only)."""
    gap_ms: float = 0.0
    """Delay between chunks (streams only)."""
    chunk: int = 10
    """Characters of the reply per chunk (streams only)."""


@dataclasses.dataclass(frozen=True)
class Launch:
    """How to run one configured peer: its command and environment, and where to send requests."""

    cmd: list[str]
    env: dict[str, str] = dataclasses.field(default_factory=dict)
    path: str = "/v1/chat/completions"
    ready: Callable[[str], None] | None = None
    """Called with the server's base URL once it listens, for configuration only its HTTP API takes."""


Launcher = Callable[[Path, Path, int, Shape], Launch]
"""(install folder, a scratch folder for its configuration, port, shape) -> how to run it."""


@dataclasses.dataclass(frozen=True)
class Peer:
    name: str
    """The package's name in its registry."""
    version: str
    registry: str
    """``npm``, ``pypi``, or ``local`` (nothing to install: the smoke test's stand-in)."""
    launch: Launcher
    schedule: Callable[[Shape], str] = lambda shape: ""
    """Why this peer cannot hold the shape's schedule; empty when it can."""


def _bin(home: Path, name: str) -> str:
    return str(home / "node_modules" / ".bin" / name)


def _aimock(home: Path, work: Path, port: int, shape: Shape) -> Launch:
    fixture: dict[str, object] = {"match": {}, "response": {"content": shape.text}}
    if shape.stream:
        # streamingProfile: ttft before chunk 0, then 1000/tps ms before each later chunk (dist/sse-writer.js).
        fixture["streamingProfile"] = {"ttft": shape.ttft_ms, "tps": 1000 / shape.gap_ms if shape.gap_ms else 1e9}
    path = work / "aimock.json"
    path.write_text(json.dumps({"fixtures": [fixture]}))
    cmd = [_bin(home, "llmock"), "-p", str(port), "-f", str(path), "--chunk-size", str(shape.chunk)]
    return Launch([*cmd, "--log-level", "silent"])


def _mock_llm(home: Path, work: Path, port: int, shape: Shape) -> Launch:
    # The README's default echo rule with a fixed reply; the file is JSON, which its YAML loader reads as is.
    reply = {
        "id": "chatcmpl-{{timestamp}}",
        "object": "chat.completion",
        "model": "{{jmes request body.model}}",
        "choices": [{"message": {"role": "assistant", "content": shape.text}, "finish_reason": "stop"}],
    }
    rule = {"path": "/v1/chat/completions", "method": "POST", "match": "@"}
    config = {
        "streaming": {"chunkSize": shape.chunk, "chunkIntervalMs": shape.gap_ms or 1},
        "rules": [{**rule, "response": {"status": 200, "content": json.dumps(reply)}}],
    }
    path = work / "mock-llm.yaml"
    path.write_text(json.dumps(config))
    return Launch([_bin(home, "mock-llm"), "--config", str(path)], {"PORT": str(port), "HOST": "127.0.0.1"})


def _mock_llm_schedule(shape: Shape) -> str:
    # One setInterval paces every chunk, the first included (src/streaming.ts): TTFT is always one gap.
    return "" if shape.ttft_ms == shape.gap_ms else "its first chunk always comes one gap in (no TTFT setting)"


def _fakellm(home: Path, work: Path, port: int, shape: Shape) -> Launch:
    path = work / "fakellm.yaml"
    path.write_text(json.dumps({"rules": [{"name": "bench", "respond": {"content": shape.text}}]}))
    # What `fakellm serve` runs (cli.py: FAKELLM_CONFIG, then uvicorn.run), without the access log: every
    # server here runs as quiet as it can be (llmreplay --quiet, aimock --log-level silent).
    cmd = [str(home / "bin" / "python"), "-m", "uvicorn", "fakellm.server:app", "--host", "127.0.0.1"]
    cmd += ["--port", str(port), "--no-access-log", "--log-level", "warning"]
    return Launch(cmd, {"FAKELLM_CONFIG": str(path)})


def _llmock(home: Path, work: Path, port: int, shape: Shape) -> Launch:
    # --latency-ms holds the whole answer (the first chunk with it), --stream-chunk-delay-ms comes before each
    # later chunk (middleware.py); a reply streams one word per chunk (streaming.py text_pieces).
    cmd = [str(home / "bin" / "llmock"), "serve", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--log-level", "warning", "--tool-mode", "off", "--response-style", "static"]
    if shape.stream:
        cmd += ["--latency-ms", f"{shape.ttft_ms:.0f}", "--stream-chunk-delay-ms", f"{shape.gap_ms:.0f}"]

    def ready(url: str) -> None:
        behaviour = {"type": "reply", "text": shape.text, "times": None}
        body = json.dumps({"behaviors": [behaviour]}).encode()
        req = urllib.request.Request(f"{url}/_llmock/scenario", body, {"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).close()

    return Launch(cmd, ready=ready)


def _llmock_schedule(shape: Shape) -> str:
    words = shape.text.split(" ")
    if any(len(w) + 1 != shape.chunk for w in words if w):
        return f"it streams one word per chunk, not {shape.chunk} characters"
    return ""


def _fakellm_schedule(shape: Shape) -> str:
    return "its streams pause a fixed 10 ms per word, with no first-token delay (streaming.py)"


def _local(home: Path, work: Path, port: int, shape: Shape) -> Launch:
    path = f"/stream?k={len(shape.text) // shape.chunk}&gap_ms={shape.gap_ms:g}&ttft_ms={shape.ttft_ms:g}"
    return Launch(baseline_cmd(port), path=path if shape.stream else "/v1/chat/completions")


PEERS = (
    Peer("@copilotkit/aimock", "1.43.0", "npm", _aimock),
    Peer("@dwmkerr/mock-llm", "0.1.29", "npm", _mock_llm, _mock_llm_schedule),
    Peer("fakellm", "0.3.5", "pypi", _fakellm, _fakellm_schedule),
    Peer("llmock", "0.2.2", "pypi", _llmock, _llmock_schedule),
)
"""How each is configured and why these versions: docs/performance.md, "Peers"."""


@dataclasses.dataclass
class Outcome:
    """One peer in one figure: its measurement, or why there is none."""

    peer: str
    version: str
    result: Any = None
    problem: str = ""


STAND_IN = Peer("bare-handler-as-peer", "0", "local", _local)
"""A peer that needs no installing: ``benchmarks.baseline`` behind the peer plumbing."""


def select(names: str) -> list[Peer]:
    """The peers named in ``names`` (comma-separated, matched on the name's last part), or all for "all"."""
    if names.strip() in ("", "all"):
        return list(PEERS)
    wanted = {n.strip() for n in names.split(",") if n.strip()}
    known = {p.name.rsplit("/", 1)[-1]: p for p in (*PEERS, STAND_IN)}
    unknown = wanted - known.keys()
    if unknown:
        raise ValueError(f"unknown peer(s) {', '.join(sorted(unknown))}; known: {', '.join(sorted(known))}")
    return [known[n] for n in sorted(wanted)]
