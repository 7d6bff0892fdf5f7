"""The cassette deck: the recordings in play, the cassette new ones go into, and the upstream.

It writes out, once, the order in which sources are asked for an answer, following vcrpy's record modes:

=============  ======================================================================
``none``       replay only; a miss gets the miss policy (error, synthetic or forward)
``once``       a cassette that exists is replayed as ``none``; one that does not is
               recorded (every call forwarded)
``new_episodes`` replay what matches; forward and record every miss
``all``        forward and record every call; never replay
=============  ======================================================================

The recorder is an observer of finished upstream exchanges: it appends what the upstream sent, scrubbed, to
the cassette (and, under ``new_episodes``, makes it replayable at once).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from llmreplay.cassettes import provenance
from llmreplay.cassettes.catalog import CASSETTE_HEADER, Catalog, read, read_many, stamp_of
from llmreplay.cassettes.model import Interaction, RecordedRequest
from llmreplay.cassettes.recorder import Recorder
from llmreplay.cassettes.scrub import Scrubber
from llmreplay.cassettes.store import CassetteError, cassette_path
from llmreplay.config import CassetteSettings, ConfigError
from llmreplay.errors import ApiError, ErrorKind
from llmreplay.exchange import Exchange
from llmreplay.shaping.directives import TEST_ID
from llmreplay.sources.base import Source
from llmreplay.sources.cassette import CassetteSource, Notify
from llmreplay.sources.cassette_config import match_config, scrub_config
from llmreplay.sources.replay import warm_tokens
from llmreplay.sources.upstream import Upstream
from llmreplay.sources.upstreams import resolve_upstream

log = logging.getLogger("llmreplay.cassettes")


class Deck:
    """Loaded cassettes, the recorder and the proxy, built once from the cassette settings."""

    def __init__(self, cfg: CassetteSettings, notify: Notify | None = None) -> None:
        self.cfg = cfg
        self.folder = Path(cfg.dir or "cassettes")
        try:
            self.target = cassette_path(self.folder, cfg.cassette)
            match = match_config(cfg)
            loaded = read_many(self.folder, None, match) if self.folder.is_dir() else []
        except (CassetteError, ValueError) as exc:
            raise ConfigError(str(exc)) from None
        self.catalog = Catalog(match, loaded)
        """The cassettes in play, by name (the admin API and ``--watch`` change them at run time)."""
        warm_tokens(self.catalog.all.recordings())
        self.cassette = CassetteSource(self.catalog, cfg.speed, cfg.timing, notify)
        mode = cfg.record_mode
        if mode == "once":
            mode = "none" if self.target.exists() else "all"
        self.mode = mode
        self.records = mode in ("all", "new_episodes")
        self.proxy: Upstream | None = None
        """The upstream, when there is one (``--upstream``)."""
        self._recorders: dict[str, Recorder] = {}
        """One per cassette recorded into (``--cassette``, and those requests name), opened at first use."""
        self._opening = asyncio.Lock()
        self.closed = False
        self.listeners: list[Callable[[str, Interaction], None]] = []
        """Told of every interaction recorded (cassette name, interaction)."""
        if (self.records or cfg.on_miss == "forward") and not cfg.upstream:
            raise ConfigError(
                f"record mode {cfg.record_mode} / on-miss {cfg.on_miss} needs an upstream "
                "(--upstream openai|anthropic|gemini|URL)"
            )
        if cfg.upstream:
            try:
                upstream = resolve_upstream(cfg.upstream)
                scrub = Scrubber(scrub_config(cfg))
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
            # Not recording (forwarding misses only): nothing of an answer is kept.
            cap = cfg.max_recording_mb << 20 if self.records else 0
            self.proxy = Upstream(upstream, self._recorded, scrub, max_recording=cap, skipped=self._skipped)
        if self.records:
            # Taken now, so a second recorder of this cassette refuses to start instead of losing its recordings.
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                self._recorders[self.target.stem] = Recorder(self.target, self.proxy.shown if self.proxy else "")
            except (OSError, CassetteError) as exc:
                raise ConfigError(str(exc)) from None

    def sources(self, synthetic: Source) -> tuple[Source, ...]:
        """The sources asked for an answer, in order: the first that has one answers."""
        if self.mode == "all":
            return (self._upstream(),)
        if self.mode == "new_episodes" or self.cfg.on_miss == "forward":
            return (self.cassette, self._upstream())
        if self.cfg.on_miss == "synthetic":
            return (self.cassette, synthetic)
        return (self.cassette,)

    def _upstream(self) -> Upstream:
        assert self.proxy is not None  # the constructor refuses these modes without an upstream
        return self.proxy

    async def _recorded(self, interaction: Interaction) -> None:
        if not self.records:
            return
        interaction = provenance.recorded(interaction, self.proxy.shown if self.proxy is not None else "")
        name = self.recording_name(dict(interaction.request.headers))
        path = self.target
        try:
            path = cassette_path(self.folder, name)
            await (await self._recorder(name, path)).append_async(interaction)
        except (OSError, CassetteError) as exc:
            # The client already has its answer; what is lost is this recording, and the cassette stays whole
            # (a failed append is cut back off the file).
            log.error(
                "llmreplay: could not record %s %s into %s: %s",
                interaction.request.method,
                interaction.request.path,
                path,
                exc,
            )
            return
        if self.mode == "new_episodes":
            # Recorded now, replayable now: a repeat of this call no longer goes upstream.
            self.catalog.add(name, interaction, path.absolute())
        for listener in self.listeners:
            listener(name, interaction)

    @property
    def names(self) -> list[str]:
        """The cassettes loaded."""
        return self.catalog.names()

    @property
    def interactions(self) -> int:
        return self.catalog.interactions

    def forwarded(self, ex: Exchange, missed: dict[str, Any] | None) -> None:
        """Say on ``ex``, which the upstream answered, what became of its cassette: recorded into, or (forwarded
        without recording) missed, as the cassette source said on ``missed``."""
        if self.records:
            kept = {"recorded_into": self.recording_name(ex.call.headers)}
        else:
            kept = {"missed": missed["missed"]} if missed and "missed" in missed else {}
        ex.answered_by = {**(ex.answered_by or {}), **kept}

    def recording_name(self, headers: Mapping[str, str]) -> str:
        """The cassette a recording of a request with these (lower-case) headers goes into: the one it names
        (``x-llmreplay-cassette``, or its test id when a cassette of that name is loaded), else ``--cassette``.
        The recorder reads it back from the recorded request, which keeps the headers the client sent."""
        return self.catalog.record_target(headers.get(CASSETTE_HEADER), headers.get(TEST_ID)) or self.target.stem

    def check_name(self, headers: Mapping[str, str]) -> None:
        """Refuse a request whose ``x-llmreplay-cassette`` could not be a cassette's name (a path, say)."""
        named = headers.get(CASSETTE_HEADER)
        if named is not None:
            try:
                cassette_path(self.folder, named)
            except CassetteError as exc:
                msg = f"Invalid header {CASSETTE_HEADER}: {exc}"
                raise ApiError(ErrorKind.INVALID_REQUEST, msg, param=CASSETTE_HEADER) from None

    async def take_shared(self, name: str, path: str | None) -> None:
        """Another process (``--state``) loaded cassette ``name`` from ``path`` (None: unloaded it): the same
        here, unless this process has that file, as it is, loaded already."""
        if path is None:
            self.catalog.drop(name)
            return
        target = Path(path).absolute()
        found = self.catalog.get(name)
        if found is not None and found.path == target and found.stamp == stamp_of(target):
            return
        try:
            loaded = await asyncio.to_thread(read, target, name, self.catalog.cfg)
        except (OSError, CassetteError) as exc:
            log.warning("llmreplay: could not load cassette %s as another process did: %s", name, exc)
            return
        self.catalog.put(loaded)

    def recording_into(self) -> set[Path]:
        """The files this server records into (``--watch`` never reads them back)."""
        return {r.path.absolute() for r in self._recorders.values()}

    async def _recorder(self, name: str, path: Path) -> Recorder:
        """The recorder of cassette ``name``, opened (off the event loop) at its first recording."""
        async with self._opening:
            if self.closed:
                raise CassetteError(f"{path}: recorder is closed")
            found = self._recorders.get(name)
            if found is None:
                shown = self.proxy.shown if self.proxy is not None else ""
                found = self._recorders[name] = await asyncio.to_thread(Recorder, path, shown)
            return found

    def _skipped(self, request: RecordedRequest, size: int) -> None:
        if not self.records:
            return
        try:
            path = cassette_path(self.folder, self.recording_name(dict(request.headers)))
        except CassetteError:
            path = self.target
        log.warning(
            "llmreplay: not recording %s %s into %s: its answer is over cassettes.max_recording_mb (%d MiB); "
            "%.1f MiB relayed, none of it recorded",
            request.method,
            request.path,
            path,
            self.cfg.max_recording_mb,
            size / (1 << 20),
        )

    async def close(self) -> None:
        if self.proxy is not None:
            await self.proxy.close()
        async with self._opening:
            self.closed = True
        for recorder in self._recorders.values():
            await recorder.drain()
            recorder.close()
        self._recorders.clear()
