"""``--watch``: a cassette re-recorded on disk is replayed without a restart; one still being written is read
only once it has settled, and then only up to its last whole recording."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest

from llmreplay.cassettes.catalog import Catalog, read
from llmreplay.cassettes.keys import MatchConfig
from llmreplay.cassettes.store import load, save
from llmreplay.cassettes.watch import Watcher
from tests.cassettes.recorded_kit import ask, client, record, replayer

DEADLINE_S = 20.0
"""How long a test waits for the watcher to notice (it polls twice a second): a deadline, not a figure."""


@pytest.mark.sdk
def test_a_re_recorded_cassette_is_replayed_without_a_restart(tmp_path: Path, alpha_beta: Path) -> None:
    watched = tmp_path / "cassettes"
    watched.mkdir()
    (watched / "demo.msgpack").write_bytes((alpha_beta / "alpha.msgpack").read_bytes())
    with replayer(watched, watch=True) as server:
        sdk = client(f"{server.url}/v1")
        assert ask(sdk)[0] == "Alpha answers."
        # Re-recorded elsewhere, then moved over the old file, as a recording run that writes a fresh copy does.
        fresh = record(tmp_path / "rerun", "demo", "Answers after the re-recording.")
        os.replace(fresh, watched / "demo.msgpack")
        # A cassette that appears in the folder is loaded too.
        (watched / "extra.msgpack").write_bytes((alpha_beta / "beta.msgpack").read_bytes())
        end = time.monotonic() + DEADLINE_S
        while ask(sdk)[0] != "Answers after the re-recording.":
            assert time.monotonic() < end, "the re-recorded cassette was not picked up"
            time.sleep(0.1)
        while True:
            try:
                text, headers = ask(client(f"{server.url}/v1", **{"x-llmreplay-cassette": "extra"}))
                break
            except Exception:
                assert time.monotonic() < end, "the new cassette was not loaded"
                time.sleep(0.1)
        assert text == "Beta answers." and headers["x-llmreplay-cassette"] == "extra#0"


def _poll(w: Watcher) -> list[str]:
    return [c.name for c in asyncio.run(w.poll())]


def test_a_cassette_being_written_is_read_once_settled_and_only_whole(tmp_path: Path, alpha_beta: Path) -> None:
    first, second = load(alpha_beta / "alpha.msgpack"), load(alpha_beta / "beta.msgpack")
    whole = tmp_path / "whole.msgpack"
    save(whole, first.header, [*first.interactions, *second.interactions])
    one = (alpha_beta / "alpha.msgpack").stat().st_size
    data = whole.read_bytes()

    catalog = Catalog(MatchConfig())
    w = Watcher(catalog, tmp_path / "cassettes")
    (tmp_path / "cassettes").mkdir()
    target = tmp_path / "cassettes" / "demo.msgpack"
    target.write_bytes(data[: one + 40])  # the second recording is half-way written
    assert _poll(w) == []  # changed since the last look: not read yet
    assert _poll(w) == ["demo"]  # the same for one poll: read, without the partial recording
    got = catalog.get("demo")
    assert got is not None and len(got.index) == 1 and got.damaged_tail == 40
    assert _poll(w) == []  # unchanged: not read again

    with target.open("ab") as f:
        f.write(data[one + 40 :])
    assert _poll(w) == []
    assert _poll(w) == ["demo"]
    got = catalog.get("demo")
    assert got is not None and len(got.index) == 2 and got.damaged_tail == 0
    assert catalog.interactions == 2


def test_a_file_that_cannot_be_read_leaves_the_cassette_in_play(tmp_path: Path, alpha_beta: Path) -> None:
    folder = tmp_path / "cassettes"
    folder.mkdir()
    target = folder / "demo.msgpack"
    target.write_bytes((alpha_beta / "alpha.msgpack").read_bytes())
    catalog = Catalog(MatchConfig(), [read(target, "demo", MatchConfig())])
    w = Watcher(catalog, folder)
    target.write_bytes(b"\x00 not a cassette")
    assert _poll(w) == [] and _poll(w) == []
    kept = catalog.get("demo")
    assert kept is not None and len(kept.index) == 1
    target.write_bytes((alpha_beta / "alpha.msgpack").read_bytes())
    assert _poll(w) == [] and _poll(w) == ["demo"]


def test_the_files_this_server_records_into_are_never_read_back(tmp_path: Path, alpha_beta: Path) -> None:
    folder = tmp_path / "cassettes"
    folder.mkdir()
    mine = folder / "recorded.msgpack"
    catalog = Catalog(MatchConfig())
    w = Watcher(catalog, folder, own=lambda: {mine})
    mine.write_bytes((alpha_beta / "alpha.msgpack").read_bytes())
    assert _poll(w) == [] and _poll(w) == []
    assert "recorded" not in catalog
