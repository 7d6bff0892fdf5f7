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

import logging
from collections.abc import Callable
from pathlib import Path

from llmreplay.cassettes import provenance
from llmreplay.cassettes.matching import Index
from llmreplay.cassettes.model import Interaction
from llmreplay.cassettes.recorder import Recorder
from llmreplay.cassettes.scrub import Scrubber
from llmreplay.cassettes.store import CassetteError, cassette_path, list_cassettes, load
from llmreplay.config import CassetteSettings, ConfigError
from llmreplay.sources.base import Source
from llmreplay.sources.cassette import CassetteSource, Notify
from llmreplay.sources.cassette_config import match_config, scrub_config
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
            paths = list_cassettes(self.folder) if self.folder.is_dir() else []
            loaded = [load(p) for p in paths]
            match = match_config(cfg)
        except (CassetteError, ValueError) as exc:
            raise ConfigError(str(exc)) from None
        self.names = [c.path.stem for c in loaded]
        self.interactions = sum(len(c.interactions) for c in loaded)
        self.index = Index(((c.path.stem, it) for c in loaded for it in c.interactions), match)
        self.cassette = CassetteSource(self.index, self.names, cfg.speed, cfg.timing, notify)
        mode = cfg.record_mode
        if mode == "once":
            mode = "none" if self.target.exists() else "all"
        self.mode = mode
        self.records = mode in ("all", "new_episodes")
        self.proxy: Upstream | None = None
        """The upstream, when there is one (``--upstream``)."""
        self._recorder: Recorder | None = None
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
            self.proxy = Upstream(upstream, self._recorded, scrub)
        if self.records:
            # Taken now, so a second recorder of this cassette refuses to start instead of losing its recordings.
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                self._recorder = Recorder(self.target, self.proxy.shown if self.proxy else "")
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
        try:
            if self._recorder is None:
                raise CassetteError(f"{self.target}: recorder is closed")
            await self._recorder.append_async(interaction)
        except (OSError, CassetteError) as exc:
            # The client already has its answer; what is lost is this recording, and the cassette stays whole
            # (a failed append is cut back off the file).
            log.error(
                "llmreplay: could not record %s %s into %s: %s",
                interaction.request.method,
                interaction.request.path,
                self.target,
                exc,
            )
            return
        name = self.target.stem
        if self.mode == "new_episodes":
            # Recorded now, replayable now: a repeat of this call no longer goes upstream.
            self.index.add(name, interaction)
        for listener in self.listeners:
            listener(name, interaction)

    async def close(self) -> None:
        if self.proxy is not None:
            await self.proxy.close()
        if self._recorder is not None:
            await self._recorder.drain()
            self._recorder.close()
            self._recorder = None
