"""One writer per cassette (issue 19, case 23): recorders racing on a new cassette never lose an interaction."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from llmreplay.cassettes.model import Interaction, RecordedRequest, RecordedResponse
from llmreplay.cassettes.recorder import Recorder
from llmreplay.cassettes.store import CassetteError, create_exclusively, load

TRIALS = 50


def interaction(name: str) -> Interaction:
    request = RecordedRequest("POST", "/v1/chat/completions", (), (), name.encode())
    return Interaction(request, RecordedResponse(200, (), b"{}"), "openai-chat", "chat")


def race(path: Path) -> tuple[list[str], list[str]]:
    """Two recorders start on ``path`` at once; each that starts appends one interaction of its own.

    Both stay open until both have tried, so a winner that finished early cannot hand the file on: exactly one
    may start. Returns who recorded and the refusals."""
    started = threading.Barrier(2)
    tried = threading.Barrier(2)
    recorded: list[str] = []
    refused: list[str] = []

    def run(name: str) -> None:
        started.wait()
        try:
            rec = Recorder(path, "https://up")
        except CassetteError as exc:
            refused.append(str(exc))
            tried.wait()
            return
        with rec:
            rec.append(interaction(name))
            recorded.append(name)
            tried.wait()

    threads = [threading.Thread(target=run, args=(n,)) for n in ("a", "b")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return recorded, refused


def test_two_recorders_racing_on_a_new_cassette_never_lose_an_interaction(tmp_path: Path) -> None:
    lost = 0
    for trial in range(TRIALS):
        path = tmp_path / f"race{trial}.msgpack"
        recorded, refused = race(path)
        on_disk = [it.request.body.decode() for it in load(path).interactions]
        lost += len(set(recorded) - set(on_disk))
        assert len(recorded) == 1, f"trial {trial}: {len(recorded)} recorders started on one cassette"
        assert on_disk == recorded, f"trial {trial}: recorded {recorded}, on disk {on_disk}"
        assert len(refused) == 1 and "already being recorded by another recorder" in refused[0]
        assert "\n" not in refused[0] and str(path) in refused[0]
    assert lost == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"race{t}.msgpack" for t in range(TRIALS))


def test_a_second_recorder_is_refused_while_the_first_is_open_and_welcome_after(tmp_path: Path) -> None:
    path = tmp_path / "c.msgpack"
    with Recorder(path, "u") as first:
        with pytest.raises(CassetteError, match="already being recorded"):
            Recorder(path, "u")
        first.append(interaction("one"))
    with Recorder(path, "u") as second:
        second.append(interaction("two"))
    assert [it.request.body for it in load(path).interactions] == [b"one", b"two"]


def test_create_exclusively_never_replaces_a_file(tmp_path: Path) -> None:
    path = tmp_path / "x.msgpack"
    assert create_exclusively(path, [b"first"]) is True
    assert create_exclusively(path, [b"second"]) is False
    assert path.read_bytes() == b"first"
    assert [p.name for p in tmp_path.iterdir()] == ["x.msgpack"]  # no temporary file left behind
