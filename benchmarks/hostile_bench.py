"""One case's bench: the server under test (health polled, memory read), its helpers, and what the case found."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable
from pathlib import Path

from benchmarks.harness import CLIENT_CORE, SERVER_CORE
from benchmarks.hostile_kit import Probe, Proc, WsFeed, call, llmreplay, new_port, spawn

ZERO = {
    "STREAM_INITIAL_DELAY_MS": "0",
    "STREAM_DELAY_MS": "0",
    "STREAM_JITTER_MS": "0",
    "TOOL_CALL_PROBABILITY": "0",
}


@dataclasses.dataclass
class Outcome:
    """What a case sent and what it got back; ``forms`` are the ways of writing the key it looks for."""

    sent: str
    answer: str
    forms: list[bytes] | None = None


class Bench:
    """Starts the processes of one case; the first ``serve`` (or ``record``) is the server under test."""

    def __init__(self, quick: bool, folder: Path, stack: contextlib.ExitStack) -> None:
        self.quick = quick
        self.folder = folder
        self.stack = stack
        self.target: Proc | None = None
        self.probe: Probe | None = None
        self.rss_before = 0
        self.feed: WsFeed | None = None
        self.cassettes = folder / "cassettes"
        self.cassettes.mkdir()

    def size(self, quick: int, full: int) -> int:
        return quick if self.quick else full

    def start(self, command: str, *args: str, env: dict[str, str] | None = None, target: bool = True) -> Proc:
        """``llmreplay <command>`` with zero latency; the server under test unless ``target`` is False (an
        upstream, pinned beside the client so it does not compete with the server measured)."""
        port = new_port()
        log = self.folder / f"{command}-{port}.log"
        proc = spawn(
            llmreplay(command, port, *args), log, {**ZERO, **(env or {})}, SERVER_CORE if target else CLIENT_CORE
        )
        self.stack.callback(proc.stop)
        if target:
            self.watch(proc)
        return proc

    def serve(self, *args: str, env: dict[str, str] | None = None, target: bool = True) -> Proc:
        return self.start("serve", *args, env=env, target=target)

    def record(self, upstream: str, *args: str, env: dict[str, str] | None = None) -> Proc:
        return self.start("record", "--upstream", upstream, "--cassettes", str(self.cassettes), *args, env=env)

    def watch(self, proc: Proc) -> None:
        call(proc.port, "GET", "/health")
        self.target = proc
        self.rss_before = proc.rss()
        self.probe = Probe(proc.port)

    def listen(self) -> None:
        """Read the server's /ws feed for the rest of the case (the key cases search it)."""
        assert self.target is not None
        self.feed = WsFeed(self.target.port)


Case = Callable[[Bench], Outcome]
