"""The cassettes in play, by name: each with an index of its own, and one index over them all.

A request that names its cassette (``x-llmreplay-cassette``, or a test id that is the name of a loaded
cassette) replays from that cassette alone, with cursors of its own; one that names none replays from every
cassette loaded, as a server started with ``--cassettes DIR`` always has. Choosing is one dict lookup.

Cassettes come and go at run time (the admin API, ``--watch``): :func:`read` does the disk work and computes
the keys, off the event loop; :meth:`Catalog.put` swaps the result in, on it.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmreplay.cassettes.keys import MatchConfig
from llmreplay.cassettes.matching import Index
from llmreplay.cassettes.model import Interaction
from llmreplay.cassettes.store import SUFFIX, CassetteError, cassette_path, list_cassettes, load

CASSETTE_HEADER = "x-llmreplay-cassette"
"""The request header that names the cassette a request replays from and records into; an answer from a
recording carries it back as ``NAME#INDEX``."""

Stamp = tuple[int, int]
"""A file's modification time (ns) and size: when either changes, the file was written."""


def stamp_of(path: Path) -> Stamp | None:
    """The file's :data:`Stamp`, or None when it is not there."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size)


@dataclass
class Loaded:
    """One cassette in play."""

    name: str
    path: Path
    index: Index
    """Its recordings alone, with their own cursors."""
    stamp: Stamp | None
    """The file as it was read (None for a cassette that exists only as recorded during this run)."""
    created: str = ""
    upstream: str = ""
    damaged_tail: int = 0
    """Bytes after the last whole recording, left unread: a cut-off write, or one still under way."""

    def describe(self) -> dict[str, Any]:
        """What the admin API lists of it."""
        return {
            "name": self.name,
            "path": str(self.path),
            "interactions": len(self.index),
            "created": self.created or None,
            "upstream": self.upstream or None,
            "damaged_tail": self.damaged_tail,
        }


def read(path: Path, name: str, cfg: MatchConfig) -> Loaded:
    """The cassette at ``path`` under ``name``, its keys computed: blocking work, for a thread. Raises
    :class:`CassetteError` naming the file."""
    path = path.absolute()
    cassette_path(path.parent, name)  # the name's own check, whatever folder it is in
    stamp = stamp_of(path)  # before reading: a write that lands during the read changes it again
    if not path.is_file():
        raise CassetteError(f"{path}: no such cassette file")
    c = load(path)
    index = Index(((name, it) for it in c.interactions), cfg)
    return Loaded(name, path, index, stamp, c.header.created, c.header.upstream, c.damaged_tail)


def read_many(target: Path, name: str | None, cfg: MatchConfig) -> list[Loaded]:
    """Every cassette at ``target``: a file (under ``name``, else its file name's stem) or each of a folder's
    (by stem). Blocking; raises :class:`CassetteError` naming the first file that cannot be read."""
    if target.is_dir():
        if name is not None:
            raise CassetteError(f"{target}: a folder's cassettes take their file names; give no name")
        return [read(p, p.stem, cfg) for p in list_cassettes(target)]
    return [read(target, name if name is not None else target.name.removesuffix(SUFFIX), cfg)]


class Catalog:
    """The cassettes in play by name, each with its own :class:`Index`, and :attr:`all` over every one."""

    def __init__(self, cfg: MatchConfig, loaded: Iterable[Loaded] = ()) -> None:
        self.cfg = cfg
        self._loaded: dict[str, Loaded] = {}
        self.all = Index((), cfg)
        """Every recording loaded: what a request that names no cassette replays from."""
        for one in loaded:
            self.put(one)

    def __contains__(self, name: str) -> bool:
        return name in self._loaded

    def __len__(self) -> int:
        return len(self._loaded)

    def get(self, name: str) -> Loaded | None:
        return self._loaded.get(name)

    def names(self) -> list[str]:
        return list(self._loaded)

    def entries(self) -> list[Loaded]:
        return list(self._loaded.values())

    @property
    def interactions(self) -> int:
        return len(self.all)

    def select(self, named: str | None, test_id: str | None) -> tuple[str | None, Index | None]:
        """The cassette a request replays from: the one it names (its index, or None when no such cassette is
        loaded), else the one its test id names when loaded, else (None, :attr:`all`)."""
        if named:
            found = self._loaded.get(named)
            return named, found.index if found is not None else None
        if test_id:
            found = self._loaded.get(test_id)
            if found is not None:
                return test_id, found.index
        return None, self.all

    def record_target(self, named: str | None, test_id: str | None) -> str | None:
        """The cassette a recording of such a request goes into; None for the server's own (``--cassette``)."""
        if named:
            return named
        return test_id if test_id and test_id in self._loaded else None

    def put(self, loaded: Loaded) -> None:
        """Load ``loaded``, in place of a cassette of the same name."""
        if loaded.name in self._loaded:
            self.all.discard(loaded.name)
        self._loaded[loaded.name] = loaded
        self.all.extend(loaded.index)

    def drop(self, name: str) -> Loaded | None:
        """Unload ``name``; None when it was not loaded."""
        gone = self._loaded.pop(name, None)
        if gone is not None:
            self.all.discard(name)
        return gone

    def add(self, name: str, interaction: Interaction, path: Path) -> None:
        """A recording made during this run, replayable at once (``new_episodes``) in ``name`` (at ``path``)."""
        found = self._loaded.get(name)
        if found is None:
            found = self._loaded[name] = Loaded(name, path, Index((), self.cfg), None)
        found.index.add(name, interaction)
        self.all.add(name, interaction)
