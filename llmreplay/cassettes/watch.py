"""``--watch``: cassette files that change on disk are read again, and new ones in the folder are loaded.

Every :data:`POLL_S` the loaded cassettes' files and the folder are looked at (a ``stat`` each, in a thread, off
the data path). A file whose modification time or size changed is read once it has stayed the same for one
poll, so that a cassette still being written (re-recorded by another process) is read whole, not caught
half-way; the loader leaves out a partial last recording all the same. Reading and computing the keys happen in
a thread too; only the swap into the catalog runs on the event loop. A file this server records into itself
is never read back: its recordings are in play already.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from llmreplay.cassettes.catalog import Catalog, Loaded, Stamp, read, stamp_of
from llmreplay.cassettes.store import CassetteError, list_cassettes

log = logging.getLogger("llmreplay.cassettes")

POLL_S = 0.5
"""How often the files are looked at: a re-recorded cassette is in play within about two polls."""


class Watcher:
    """Keeps :class:`Catalog` in step with the cassette files (:meth:`run` is the polling task)."""

    def __init__(
        self,
        catalog: Catalog,
        folder: Path,
        own: Callable[[], set[Path]] = set,
        interval: float = POLL_S,
    ) -> None:
        self.catalog = catalog
        self.folder = folder.absolute()
        self.own = own
        """The files this server records into: never read back."""
        self.interval = interval
        self._seen: dict[Path, Stamp] = {}
        """The stamp each file had when last acted on (read, or found unreadable)."""
        self._settling: dict[Path, Stamp] = {}
        """Files seen changed at the last poll, with the stamp they had then."""
        for p in list_cassettes(self.folder):
            st = stamp_of(p)
            if st is not None:
                self._seen[p] = st

    def changed(self, loaded: dict[Path, tuple[str, Stamp | None]], own: set[Path]) -> list[tuple[Path, str]]:
        """The files to read now, and the name each goes under (blocking: a ``stat`` per file). ``loaded``: the
        catalog's files, with their names and the stamps they were read at."""
        candidates = {p: p.stem for p in list_cassettes(self.folder)}
        candidates.update({p: name for p, (name, _) in loaded.items()})
        ready = []
        for path, name in candidates.items():
            if path in own:
                continue
            st = stamp_of(path)
            known = loaded[path][1] if path in loaded else self._seen.get(path)
            if st is None or st == known:
                self._settling.pop(path, None)
                continue
            if self._settling.get(path) == st:
                del self._settling[path]
                ready.append((path, name))
            else:
                self._settling[path] = st
        return ready

    async def poll(self) -> list[Loaded]:
        """One look at the files: what changed and has settled is read and put in play."""
        loaded = {e.path: (e.name, e.stamp) for e in self.catalog.entries()}
        ready = await asyncio.to_thread(self.changed, loaded, {p.absolute() for p in self.own()})
        done = []
        for path, name in ready:
            try:
                fresh = await asyncio.to_thread(read, path, name, self.catalog.cfg)
            except (OSError, CassetteError) as exc:
                st = stamp_of(path)
                if st is not None:
                    self._seen[path] = st  # tried again once it changes
                log.warning("llmreplay: --watch: kept the cassette as it was: %s", exc)
                continue
            if fresh.stamp is not None:
                self._seen[path] = fresh.stamp
            self.catalog.put(fresh)
            done.append(fresh)
            log.info("llmreplay: --watch: loaded cassette %s (%d interactions) from %s", name, len(fresh.index), path)
        return done

    async def run(self) -> None:
        """Poll until cancelled; a failing poll is logged and the next one tries again."""
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.poll()
            except Exception:  # the server keeps serving what it has
                log.exception("llmreplay: --watch: polling the cassette files failed")
