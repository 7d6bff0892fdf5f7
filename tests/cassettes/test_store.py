"""The cassette store: round trips, every error, crash recovery, concurrency, atomic save, load speed."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path
from typing import Any

import msgpack
import pytest

from llmreplay import __version__
from llmreplay.cassettes import recorder, store
from llmreplay.cassettes.model import (
    VERSION,
    Header,
    Interaction,
    LazyEvents,
    RecordedEvent,
    RecordedRequest,
    RecordedResponse,
)
from llmreplay.cassettes.recorder import Recorder
from llmreplay.cassettes.store import (
    Cassette,
    CassetteError,
    cassette_path,
    list_cassettes,
    load,
    new_header,
    save,
)

ROOT = Path(__file__).resolve().parents[2]


def plain(i: int, extra: dict[str, Any] | None = None) -> Interaction:
    request = RecordedRequest(
        "POST",
        "/v1/chat/completions",
        (("api-version", "1"), ("api-version", "2")),
        (("content-type", "application/json"), ("x-n", str(i))),
        b'{"model":"gpt-4o","n":%d}' % i,
    )
    response = RecordedResponse(200, (("content-type", "application/json"),), b'{"id":"c%d"}' % i, None, 1200, 3400)
    return Interaction(request, response, "openai-chat", "chat", "2025-11-26T06:00:00Z", extra or {})


def streamed(i: int, n_events: int = 5) -> Interaction:
    events = tuple(RecordedEvent(1000 * (k + 1), b'data: {"k":%d}\r\n\r\n' % k) for k in range(n_events))
    request = RecordedRequest("POST", "/v1/messages", (), (("content-type", "application/json"),), b'{"i":%d}' % i)
    response = RecordedResponse(200, (("content-type", "text/event-stream"),), None, events, 500, 9000, "disconnect")
    return Interaction(request, response, None, "other", "2025-11-26T06:00:01Z")


def packed(obj: Any) -> bytes:
    return msgpack.packb(obj, use_bin_type=True)


def one_line_naming(err: pytest.ExceptionInfo[CassetteError], path: Path) -> str:
    message = str(err.value)
    assert "\n" not in message
    assert str(path) in message
    return message


# ---------------------------------------------------------------- round trips and header


def test_recorder_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "c.msgpack"
    items = [plain(0, {"future_key": [1, 2], "note": "kept"}), streamed(1), plain(2), streamed(3, 0)]
    with Recorder(path, "https://api.openai.com") as rec:
        for it in items:
            rec.append(it)
    cassette = load(path)
    assert isinstance(cassette, Cassette)
    assert cassette.path == path
    assert cassette.interactions == items
    assert cassette.damaged_tail == 0
    assert cassette.interactions[0].extra == {"future_key": [1, 2], "note": "kept"}
    assert cassette.interactions[1].response.raw == b"".join(e.data for e in items[1].response.events or ())


def test_new_header_and_header_on_disk(tmp_path: Path) -> None:
    header = new_header("https://api.anthropic.com")
    assert header.upstream == "https://api.anthropic.com"
    assert header.llmreplay == __version__
    assert header.version == VERSION
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", header.created)

    path = tmp_path / "h.msgpack"
    Recorder(path, "https://api.anthropic.com").close()
    first = msgpack.Unpacker(raw=False)
    first.feed(path.read_bytes())
    on_disk = first.unpack()
    assert on_disk["format"] == "llmreplay-cassette"
    assert on_disk["version"] == VERSION
    assert on_disk["upstream"] == "https://api.anthropic.com"
    assert on_disk["llmreplay"] == __version__
    cassette = load(path)
    assert cassette.interactions == []
    assert cassette.header.upstream == "https://api.anthropic.com"


def test_recorder_reopens_and_keeps_header(tmp_path: Path) -> None:
    path = tmp_path / "c.msgpack"
    with Recorder(path, "https://one.example") as rec:
        rec.append(plain(0))
    created = load(path).header
    with Recorder(path, "https://two.example") as rec:
        assert rec.header == created
        rec.append(plain(1))
    cassette = load(path)
    assert cassette.header == created
    assert cassette.interactions == [plain(0), plain(1)]


def test_save_round_trip_and_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "s.msgpack"
    header = Header("import:har", "2025-01-01T00:00:00Z", "other-tool 2.0")
    save(path, header, (plain(i) for i in range(3)))
    assert load(path).header == header
    assert load(path).interactions == [plain(i) for i in range(3)]
    save(path, header, [streamed(9)])
    assert load(path).interactions == [streamed(9)]
    assert [p.name for p in path.parent.iterdir()] == ["s.msgpack"]


def test_a_large_cassettes_stream_events_decode_on_first_use(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store, "EAGER_FILE_MAX", 0)  # every cassette is larger
    path = tmp_path / "lazy.msgpack"
    save(path, new_header("u"), [streamed(1, 4), plain(2)])
    first, second = load(path).interactions
    events = first.response.events
    assert isinstance(events, LazyEvents) and repr(events) == "LazyEvents(pending)"
    assert second.response.events is None
    assert first.response.stream  # known without decoding
    assert events == streamed(1, 4).response.events and streamed(1, 4).response.events == events
    assert (
        len(events) == 4 and events[0] == RecordedEvent(1000, b'data: {"k":0}\r\n\r\n') and events[1:2] == (events[1],)
    )
    assert first == streamed(1, 4) and hash(first.response) == hash(streamed(1, 4).response)
    assert first.response.raw == streamed(1, 4).response.raw
    # Rewriting a loaded cassette writes the events back unchanged.
    save(path, new_header("u"), load(path).interactions)
    assert load(path).interactions == [streamed(1, 4), plain(2)]


def test_a_small_cassettes_stream_events_are_decoded_as_it_loads(tmp_path: Path) -> None:
    # So that a replay does not decode them on its way to its first byte.
    path = tmp_path / "small.msgpack"
    save(path, new_header("u"), [streamed(1, 4), plain(2)])
    first, second = load(path).interactions
    events = first.response.events
    assert isinstance(events, LazyEvents) and repr(events) != "LazyEvents(pending)"
    assert first == streamed(1, 4) and second == plain(2)
    save(path, new_header("u"), load(path).interactions)
    assert load(path).interactions == [streamed(1, 4), plain(2)]


@pytest.fixture(params=["small", "large"])
def either_size(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A cassette loaded as a small one (events decoded as it loads) or a large one (events decoded when played)."""
    if request.param == "large":
        monkeypatch.setattr(store, "EAGER_FILE_MAX", 0)


@pytest.mark.usefixtures("either_size")
def test_a_malformed_event_skips_its_recording_at_load(tmp_path: Path) -> None:
    obj = streamed(1).to_obj()
    obj["response"]["events"] = [[1000, b"data: ok\n\n"], [2000]]
    path = write(tmp_path / "odd.msgpack", packed(HEADER) + packed(obj) + packed(plain(2).to_obj()))
    cassette = load(path)
    assert cassette.interactions == [plain(2)]
    assert cassette.skipped == [f"{path}: recording #0 skipped: events is not a list of [at_us, bytes] pairs"]


@pytest.mark.usefixtures("either_size")
def test_events_that_are_not_a_list_skip_their_recording(tmp_path: Path) -> None:
    obj = streamed(1).to_obj()
    obj["response"]["events"] = "data: x"
    path = write(tmp_path / "odd.msgpack", packed(HEADER) + packed(obj))
    assert load(path).skipped == [f"{path}: recording #0 skipped: events is a str, not a list"]


# ---------------------------------------------------------------- errors


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


HEADER = {"format": "llmreplay-cassette", "version": 1, "llmreplay": "0.1.0", "created": "x", "upstream": "u"}


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"", "empty file"),
        (b"\xc1\x00", "not msgpack"),
        (packed({"hello": "world"}), "no header"),
        (packed([1, 2, 3]), "no header"),
        (packed({**HEADER, "format": "something-else"}), "no header"),
        (packed({**HEADER, "version": VERSION + 1}), f"version {VERSION + 1} is not supported"),
        (packed({**HEADER, "version": "1"}), "is not supported"),
        (packed(HEADER)[:7], "truncated header"),
        (packed(HEADER) + packed(plain(0).to_obj()) + packed({"x": 1}) + packed(plain(1).to_obj()), "object 3"),
        (packed(HEADER) + packed(plain(0).to_obj()) + packed(5) + packed(plain(1).to_obj()), "not an interaction"),
        (packed(HEADER) + packed(plain(0).to_obj()) + b"\xc1" + packed(plain(1).to_obj()), "corrupt data at byte"),
    ],
)
def test_load_errors(tmp_path: Path, content: bytes, expected: str) -> None:
    path = write(tmp_path / "bad.msgpack", content)
    with pytest.raises(CassetteError) as err:
        load(path)
    assert expected in one_line_naming(err, path)


def test_missing_file_and_directory(tmp_path: Path) -> None:
    missing = tmp_path / "nope.msgpack"
    with pytest.raises(CassetteError) as err:
        load(missing)
    assert "no such cassette" in one_line_naming(err, missing)
    with pytest.raises(CassetteError) as err:
        load(tmp_path)
    assert "directory" in one_line_naming(err, tmp_path)


def test_recorder_refuses_a_corrupt_file_and_leaves_it_alone(tmp_path: Path) -> None:
    content = packed(HEADER) + packed({"x": 1}) + packed(plain(1).to_obj())
    path = write(tmp_path / "bad.msgpack", content)
    with pytest.raises(CassetteError) as err:
        Recorder(path, "u")
    assert "not an interaction" in one_line_naming(err, path)
    assert path.read_bytes() == content
    empty = write(tmp_path / "empty.msgpack", b"")
    with pytest.raises(CassetteError) as err:
        Recorder(empty, "u")
    one_line_naming(err, empty)


def test_cassette_errors_are_value_errors() -> None:
    assert issubclass(CassetteError, ValueError)


# ---------------------------------------------------------------- names and listing


def test_cassette_path(tmp_path: Path) -> None:
    assert cassette_path(tmp_path, "chat-1") == tmp_path / "chat-1.msgpack"
    assert cassette_path(str(tmp_path), "a.b") == tmp_path / "a.b.msgpack"


@pytest.mark.parametrize("name", ["", "a/b", "a\\b", "..", "../x", "x..y", "/abs", "nul\x00"])
def test_cassette_path_rejects(tmp_path: Path, name: str) -> None:
    with pytest.raises(CassetteError) as err:
        cassette_path(tmp_path, name)
    assert "\n" not in str(err.value)
    assert repr(name) in str(err.value)


def test_list_cassettes(tmp_path: Path) -> None:
    assert list_cassettes(tmp_path / "missing") == []
    for name in ("b", "a", "c"):
        save(cassette_path(tmp_path, name), new_header("u"), [])
    (tmp_path / ".a.msgpack.123.abcd.tmp").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("x")
    (tmp_path / "dir.msgpack").mkdir()
    assert list_cassettes(tmp_path) == [tmp_path / "a.msgpack", tmp_path / "b.msgpack", tmp_path / "c.msgpack"]


# ---------------------------------------------------------------- damaged tails


def three_then_half(path: Path) -> bytes:
    with Recorder(path, "u") as rec:
        for i in range(3):
            rec.append(plain(i))
    fourth = packed(streamed(3).to_obj())
    half = fourth[: len(fourth) // 2]
    with open(path, "ab") as f:
        f.write(half)
    return half


def test_damaged_tail_is_reported_and_ignored(tmp_path: Path) -> None:
    path = tmp_path / "c.msgpack"
    half = three_then_half(path)
    cassette = load(path)
    assert cassette.interactions == [plain(0), plain(1), plain(2)]
    assert cassette.damaged_tail == len(half) > 0


def test_recorder_truncates_damaged_tail_then_appends(tmp_path: Path) -> None:
    path = tmp_path / "c.msgpack"
    three_then_half(path)
    with Recorder(path, "u") as rec:
        rec.append(plain(3))
    cassette = load(path)
    assert cassette.interactions == [plain(0), plain(1), plain(2), plain(3)]
    assert cassette.damaged_tail == 0


def test_tail_cut_inside_a_length_longer_than_the_file(tmp_path: Path) -> None:
    path = tmp_path / "c.msgpack"
    with Recorder(path, "u") as rec:
        rec.append(plain(0))
    big = Interaction(RecordedRequest("POST", "/v1/x", body=b"x" * 300_000), RecordedResponse(200, body=b"{}"))
    for cut in (1, 2, 10, 60, 1000, 299_000):
        data = packed(big.to_obj())[:cut]
        with open(path, "ab") as f:
            f.write(data)
        cassette = load(path)
        assert cassette.interactions == [plain(0)]
        assert cassette.damaged_tail == len(data)
        Recorder(path, "u").close()
        assert load(path).damaged_tail == 0


def test_zero_filled_tail_counts_as_damaged(tmp_path: Path) -> None:
    path = tmp_path / "c.msgpack"
    with Recorder(path, "u") as rec:
        rec.append(plain(0))
    with open(path, "ab") as f:
        f.write(b"\x00" * 4096)
    cassette = load(path)
    assert cassette.interactions == [plain(0)]
    assert cassette.damaged_tail == 4096
    with Recorder(path, "u") as rec:
        rec.append(plain(1))
    assert load(path).interactions == [plain(0), plain(1)]


def test_a_failed_append_is_taken_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.msgpack"
    rec = Recorder(path, "u")
    rec.append(plain(0))
    real_write = os.write

    def half_then_fail(fd: int, data: Any) -> int:
        real_write(fd, bytes(data)[: len(data) // 2])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.os, "write", half_then_fail)
    with pytest.raises(OSError):
        rec.append(plain(1))
    monkeypatch.undo()
    rec.append(plain(2))
    rec.close()
    cassette = load(path)
    assert cassette.interactions == [plain(0), plain(2)]
    assert cassette.damaged_tail == 0


def test_closed_recorder_and_second_recorder(tmp_path: Path) -> None:
    path = tmp_path / "c.msgpack"
    rec = Recorder(path, "u")
    if recorder.fcntl is not None:
        with pytest.raises(CassetteError) as err:
            Recorder(path, "u")
        assert "already being recorded" in one_line_naming(err, path)
    rec.close()
    rec.close()
    with pytest.raises(CassetteError) as err:
        rec.append(plain(0))
    assert "closed" in one_line_naming(err, path)
    Recorder(path, "u").close()


# ---------------------------------------------------------------- kill -9


CHILD = textwrap.dedent(
    """
    import sys
    from llmreplay.cassettes.model import Interaction, RecordedEvent, RecordedRequest, RecordedResponse
    from llmreplay.cassettes.recorder import Recorder

    rec = Recorder(sys.argv[1], "https://api.openai.com")
    i = 0
    while True:
        events = tuple(RecordedEvent(k, b"data: %d-%d\\n\\n" % (i, k) + b"x" * (k * 97 % 4000)) for k in range(40))
        response = RecordedResponse(200, (("content-type", "text/event-stream"),), None, events, 1, 2)
        rec.append(Interaction(RecordedRequest("POST", "/v1/x", (), (), b"%d" % i), response, "openai-chat", "chat"))
        print(i, flush=True)
        i += 1
    """
)


def test_kill_9_mid_record_loses_nothing_reported(tmp_path: Path) -> None:
    path = tmp_path / "crash.msgpack"
    proc = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(path)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    watchdog = threading.Timer(60, proc.kill)
    watchdog.start()
    reported = 0
    try:
        assert proc.stdout is not None
        while reported < 20:
            line = proc.stdout.readline()
            if not line:
                pytest.fail(f"recorder child exited early: {proc.stderr.read().decode() if proc.stderr else ''}")
            reported = int(line) + 1
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == -signal.SIGKILL
    cassette = load(path)
    assert len(cassette.interactions) >= reported
    assert [it.request.body for it in cassette.interactions] == [b"%d" % i for i in range(len(cassette.interactions))]
    for it in cassette.interactions:
        assert it.response.events is not None and len(it.response.events) == 40
    with Recorder(path, "u") as rec:
        rec.append(plain(0))
    after = load(path)
    assert len(after.interactions) == len(cassette.interactions) + 1
    assert after.damaged_tail == 0


# ---------------------------------------------------------------- concurrency


def test_threads_append_into_one_recorder(tmp_path: Path) -> None:
    path = tmp_path / "c.msgpack"
    rec = Recorder(path, "u")
    start = threading.Barrier(8)

    def work(t: int) -> None:
        start.wait()
        for k in range(50):
            rec.append(streamed(t * 1000 + k, n_events=k % 7) if k % 2 else plain(t * 1000 + k))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    rec.close()
    cassette = load(path)
    assert cassette.damaged_tail == 0
    keys = [(t * 1000 + k, k) for t in range(8) for k in range(50)]
    expected = [streamed(n, k % 7) if k % 2 else plain(n) for n, k in keys]
    assert len(cassette.interactions) == 400
    assert sorted(cassette.interactions, key=repr) == sorted(expected, key=repr)


async def test_concurrent_append_async(tmp_path: Path) -> None:
    path = tmp_path / "c.msgpack"
    rec = Recorder(path, "u")
    items = [streamed(i, i % 9) if i % 3 else plain(i) for i in range(200)]
    await asyncio.gather(*(rec.append_async(it) for it in items))
    rec.close()
    cassette = load(path)
    assert cassette.damaged_tail == 0
    assert sorted(cassette.interactions, key=repr) == sorted(items, key=repr)


# ---------------------------------------------------------------- atomic save


def test_save_failing_midway_leaves_previous_file(tmp_path: Path) -> None:
    path = tmp_path / "s.msgpack"
    save(path, new_header("u"), [plain(0), plain(1)])
    before = path.read_bytes()

    def exploding() -> Any:
        yield plain(5)
        raise RuntimeError("disk on fire")

    with pytest.raises(RuntimeError):
        save(path, new_header("u"), exploding())
    assert path.read_bytes() == before
    assert load(path).interactions == [plain(0), plain(1)]
    assert [p.name for p in tmp_path.iterdir()] == ["s.msgpack"]


def test_save_failing_at_rename_leaves_previous_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.msgpack"
    save(path, new_header("u"), [plain(0)])
    before = path.read_bytes()

    def crash(src: Any, dst: Any) -> None:
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(store.os, "replace", crash)
    with pytest.raises(OSError):
        save(path, new_header("u"), [plain(1), plain(2)])
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["s.msgpack"]


def test_save_keeps_file_mode(tmp_path: Path) -> None:
    path = tmp_path / "s.msgpack"
    save(path, new_header("u"), [])
    os.chmod(path, 0o640)
    save(path, new_header("u"), [plain(0)])
    assert path.stat().st_mode & 0o777 == 0o640


# ---------------------------------------------------------------- the docs' reader


def test_docs_example_reads_a_recorded_cassette(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    text = (ROOT / "docs" / "cassettes.md").read_text()
    # The reader is the page's one block that defines read_cassette (others show the CLI and the admin API).
    blocks = [b for b in re.findall(r"```python\n(.*?)```", text, re.DOTALL) if "def read_cassette" in b]
    assert len(blocks) == 1
    assert "import llmreplay" not in blocks[0]
    assert "from llmreplay" not in blocks[0]
    path = tmp_path / "doc.msgpack"
    with Recorder(path, "https://api.openai.com") as rec:
        rec.append(plain(0, {"future": True}))
        rec.append(streamed(1))
    big = Interaction(RecordedRequest("POST", "/v1/x", body=b"x" * 300_000), RecordedResponse(200, body=b"{}"))
    with open(path, "ab") as f:
        f.write(packed(big.to_obj())[:30])  # cut inside a bin whose declared length exceeds the whole file
    namespace: dict[str, Any] = {}
    code = blocks[0].replace('"cassettes/example.msgpack"', repr(str(path)))
    exec(compile(code, "docs/cassettes.md", "exec"), namespace)
    header, interactions, tail = namespace["read_cassette"](str(path))
    assert header["upstream"] == "https://api.openai.com"
    assert [Interaction.from_obj(o) for o in interactions] == [plain(0, {"future": True}), streamed(1)]
    assert tail == 30
    out = capsys.readouterr().out
    assert "https://api.openai.com 2 interactions" in out
    assert "POST /v1/messages 200" in out


# ---------------------------------------------------------------- speed


def test_ten_thousand_interactions_load_fast(tmp_path: Path) -> None:
    from benchmarks.cassette_load import measure, sample_interactions

    path = tmp_path / "big.msgpack"
    save(path, new_header("https://api.openai.com"), sample_interactions(10_000))
    best, count = measure(path, repeats=3)
    print(f"\n10,000 interactions ({path.stat().st_size / 1e6:.0f} MB) loaded in {best * 1000:.0f} ms (target 500 ms)")
    assert count == 10_000
    load_average = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    if load_average < (os.cpu_count() or 1):
        assert best <= 1.5


async def test_appends_that_meet_share_one_fsync(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.msgpack"
    rec = Recorder(path, "u")
    real_fsync = os.fsync
    syncs: list[int] = []

    def counted(fd: int) -> None:
        syncs.append(fd)
        real_fsync(fd)

    monkeypatch.setattr(store.os, "fsync", counted)
    await asyncio.gather(*(rec.append_async(plain(i)) for i in range(50)))
    rec.close()
    # All fifty are asked for before the first write starts: one group, one fsync.
    assert len(syncs) == 1
    assert load(path).interactions == [plain(i) for i in range(50)]


async def test_a_failed_group_fails_its_own_appends_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "c.msgpack"
    rec = Recorder(path, "u")
    await rec.append_async(plain(0))
    real_write = os.write
    failing = threading.Event()
    failing.set()

    def maybe_fail(fd: int, data: Any) -> int:
        if failing.is_set():
            failing.clear()
            real_write(fd, bytes(data)[:5])
            raise OSError(28, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(store.os, "write", maybe_fail)
    first = asyncio.ensure_future(rec.append_async(plain(1)))
    await asyncio.sleep(0)  # the group of one is on its way
    rest = [asyncio.ensure_future(rec.append_async(plain(i))) for i in (2, 3)]
    with pytest.raises(OSError):
        await first
    await asyncio.gather(*rest)
    await rec.drain()
    rec.close()
    assert load(path).interactions == [plain(0), plain(2), plain(3)]
