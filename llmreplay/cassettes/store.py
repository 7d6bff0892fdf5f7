"""Cassette files on disk: names, load, and atomic save.

A cassette is one msgpack stream: the header map, then one map per interaction.
Every interaction reaches the disk as a single ``write`` of its whole encoding
followed by ``fsync``, so a crash (even ``kill -9``) can only leave a partial
object at the very end. Readers ignore that tail (reporting its size) and a
:class:`~llmreplay.cassettes.recorder.Recorder` reopening the file cuts it off before appending. Creating and
rewriting a file go through a temporary file in the same folder, ``fsync`` and
``os.replace``, so an existing cassette is never seen half-written.
"""

from __future__ import annotations

import gc
import io
import logging
import os
import secrets
import stat
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

import msgpack

from llmreplay import __version__
from llmreplay.cassettes.fields import BadRecording
from llmreplay.cassettes.model import Header, Interaction, LazyEvents

SUFFIX = ".msgpack"
READ_SIZE = 1 << 20
EAGER_FILE_MAX = 16 << 20
"""Cassettes up to 16 MiB keep their stream events decoded as they load (a larger one's wait until played,
:class:`~llmreplay.cassettes.model.LazyEvents`): the load decodes them to check them anyway, and a replay then
skips decoding them before its first byte (~25 µs a 40-event stream). The cost: ~120 bytes per event beyond the
file's own (a 16 MiB file of 100-byte events: ~19 MiB more; figure 3's 7.9 MB cassette: 4.4 MiB)."""

log = logging.getLogger("llmreplay.cassettes")


class CassetteError(ValueError):
    """A cassette that cannot be read or written; the one-line message names the file."""


@dataclass
class Cassette:
    path: Path
    header: Header
    interactions: list[Interaction]
    damaged_tail: int
    """Bytes ignored after the last complete interaction (0 if none)."""
    skipped: list[str] = field(default_factory=list)
    """One line for each recording left out as unfit to serve (:class:`BadRecording`), naming it."""


def new_header(upstream: str) -> Header:
    created = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return Header(upstream=upstream, created=created, llmreplay=__version__)


def cassette_path(folder: str | Path, name: str) -> Path:
    if not isinstance(name, str) or not name:
        raise CassetteError(f"invalid cassette name {name!r}: empty")
    for bad in ("/", "\\", "..", "\x00"):
        if bad in name:
            raise CassetteError(f"invalid cassette name {name!r}: must not contain {bad!r}")
    return Path(folder) / f"{name}{SUFFIX}"


def list_cassettes(folder: str | Path) -> list[Path]:
    base = Path(folder)
    if not base.is_dir():
        return []
    return sorted(p for p in base.glob(f"*{SUFFIX}") if p.is_file())


# ---------------------------------------------------------------- reading


@contextmanager
def _open_for_reading(path: Path) -> Iterator[BinaryIO]:
    try:
        f = open(path, "rb", buffering=0)  # noqa: SIM115 - closed by the context manager below
    except FileNotFoundError:
        raise CassetteError(f"{path}: no such cassette") from None
    except IsADirectoryError:
        raise CassetteError(f"{path}: is a directory, not a cassette") from None
    except OSError as e:
        raise CassetteError(f"{path}: cannot read: {e.strerror or e}") from None
    with f:
        yield f


def _cut_off(e: ValueError) -> bool:
    """Whether the unpacker refused a length longer than the whole file: an object the file's end cut off."""
    return "exceeds max_" in str(e)


def _zeros_from(f: BinaryIO, start: int, size: int) -> bool:
    # Some filesystems leave a crashed file's unwritten tail as zero bytes, which decode as integers.
    f.seek(start)
    while start < size:
        chunk = f.read(min(READ_SIZE, size - start))
        if not chunk or chunk.count(0) != len(chunk):
            return False
        start += len(chunk)
    return True


def _read_exactly(f: BinaryIO, size: int) -> bytes:
    # Up to the file's size when opened, so an append in flight cannot skew the tail count. One read
    # returns it all for a regular file; joining pieces would copy the whole cassette again.
    data = f.read(size)
    if len(data) >= size or not data:
        return data
    parts = [data]
    left = size - len(data)
    while left > 0 and (chunk := f.read(left)):
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


_NIL = 0xC0
_ARRAY_FIRST = (*range(0x90, 0xA0), 0xDC, 0xDD)


def _interaction_obj(raw: memoryview, lazy: bool = True) -> Any:
    """One interaction's object, its stream events a :class:`LazyEvents` over ``raw`` (decoded unless ``lazy``)."""
    u = msgpack.Unpacker(raw=False, strict_map_key=False, max_buffer_size=max(len(raw), 1))
    u.feed(raw)
    try:
        keys = u.read_map_header()
    except ValueError:
        return u.unpack()  # not a map: from_obj says what it is
    obj: dict[Any, Any] = {}
    for _ in range(keys):
        key = u.unpack()
        obj[key] = _response_obj(u, raw, lazy) if key == "response" else u.unpack()
    return obj


def _response_obj(u: msgpack.Unpacker, raw: memoryview, lazy: bool) -> Any:
    try:
        keys = u.read_map_header()
    except ValueError:
        return u.unpack()
    resp: dict[Any, Any] = {}
    for _ in range(keys):
        key = u.unpack()
        if key != "events":
            resp[key] = u.unpack()
            continue
        start = u.tell()
        u.skip()
        first = raw[start]
        if first == _NIL:
            resp[key] = None
        elif first in _ARRAY_FIRST:
            resp[key] = events = LazyEvents(raw[start : u.tell()])
            if not lazy:
                events.decode()
        else:
            resp[key] = msgpack.unpackb(raw[start : u.tell()], raw=False, strict_map_key=False)
    return resp


def _size_of(path: Path, f: BinaryIO) -> int:
    size = os.fstat(f.fileno()).st_size
    if size == 0:
        raise CassetteError(f"{path}: empty file, not a cassette")
    return size


def _unpacker(source: BinaryIO, size: int) -> msgpack.Unpacker:
    # No length inside can exceed the file, so the per-object limits say exactly that: a declared length
    # beyond them means an object cut off by the end.
    return msgpack.Unpacker(
        source,
        read_size=min(READ_SIZE, size),
        raw=False,
        strict_map_key=False,
        max_buffer_size=size,
        max_str_len=size,
        max_bin_len=size,
        max_ext_len=size,
        max_array_len=size,
        max_map_len=size // 2,
    )


def _header(path: Path, unpacker: msgpack.Unpacker) -> Header:
    try:
        header_obj = unpacker.unpack()
    except msgpack.OutOfData:
        raise CassetteError(f"{path}: not an llmreplay cassette (truncated header)") from None
    except ValueError as e:
        reason = "truncated header" if _cut_off(e) else "not msgpack"
        raise CassetteError(f"{path}: not an llmreplay cassette ({reason})") from None
    try:
        return Header.from_obj(header_obj)
    except ValueError as e:
        raise CassetteError(f"{path}: {e}") from None


def _skip(path: Path, f: BinaryIO, unpacker: msgpack.Unpacker, end: int, size: int) -> int | None:
    """Skip the object at ``end``: the offset just past it, or None at the end of the file or of what a crash
    left whole."""
    try:
        unpacker.skip()
    except msgpack.OutOfData:
        return None
    except ValueError as e:
        if _cut_off(e) or _zeros_from(f, end, size):
            return None
        raise CassetteError(f"{path}: corrupt data at byte {end} ({e})") from None
    return int(unpacker.tell())


def _scan(path: Path, f: BinaryIO, build: Callable[[Any], Any]) -> tuple[Header, list[Any], int, int, list[str]]:
    """Header, every interaction passed through ``build``, the offset just past the last one, the file size, and
    a line for each recording skipped as a :class:`BadRecording` (``#N`` counts the file's interactions from 0).

    Each interaction is first skipped over whole (in C, so a cut-off or corrupt object is found as before)
    and then decoded from its bytes with its stream events left undecoded: those are most of a cassette's
    objects, and decoding them all was most of the load time.
    """
    size = _size_of(path, f)
    data = _read_exactly(f, size)
    size = len(data)
    view = memoryview(data)
    unpacker = _unpacker(io.BytesIO(data), size)
    header = _header(path, unpacker)
    end = unpacker.tell()
    lazy = size > EAGER_FILE_MAX
    items: list[Any] = []
    append = items.append
    skipped: list[str] = []
    # Building ~10^5 small objects triggers the cyclic collector over and over; none of them form cycles.
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        while (stop := _skip(path, f, unpacker, end, size)) is not None:
            try:
                append(build(_interaction_obj(view[end:stop], lazy)))
            except BadRecording as e:
                skipped.append(f"{path}: recording #{len(items) + len(skipped)} skipped: {e}")
            except (ValueError, KeyError, TypeError, AttributeError, msgpack.ExtraData):
                if _zeros_from(f, end, size):
                    break
                at = len(items) + len(skipped) + 2
                raise CassetteError(f"{path}: object {at} at byte {end} is not an interaction") from None
            end = stop
    finally:
        if gc_was_enabled:
            gc.enable()
    return header, items, end, size, skipped


def load(path: str | Path) -> Cassette:
    """The cassette at ``path``; a recording unfit to serve is left out, with one warning line naming it."""
    p = Path(path)
    with _open_for_reading(p) as f:
        header, interactions, end, size, skipped = _scan(p, f, Interaction.from_obj)
    for line in skipped:
        log.warning("llmreplay: %s", line)
    return Cassette(p, header, interactions, size - end, skipped)


class Walk:
    """A cassette read one interaction at a time (``cassettes verify``), so a file larger than memory can be
    checked: where each interaction lies is found first (skipped over in C, as :func:`load` does), then each is
    read, built and let go of in turn. Errors, ``skipped`` and ``damaged_tail`` as :func:`load` gives them, the
    last two once iterated to the end."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.skipped: list[str] = []
        self.bounds: list[tuple[int, int]] = []
        """Where each interaction's bytes start and stop."""
        with _open_for_reading(self.path) as f:
            self.size = _size_of(self.path, f)
            unpacker = _unpacker(f, self.size)  # holds the largest object while skipping it, and goes with it
            self.header = _header(self.path, unpacker)
            end = unpacker.tell()
            while (stop := _skip(self.path, f, unpacker, end, self.size)) is not None:
                self.bounds.append((end, stop))
                end = stop
        self.damaged_tail = self.size - end

    def __len__(self) -> int:
        return len(self.bounds)

    def __iter__(self) -> Iterator[Interaction]:
        with _open_for_reading(self.path) as f:
            for n, (start, stop) in enumerate(self.bounds):
                f.seek(start)
                try:
                    yield Interaction.from_obj(_interaction_obj(memoryview(_read_exactly(f, stop - start))))
                except BadRecording as e:
                    self.skipped.append(f"{self.path}: recording #{n} skipped: {e}")
                except (ValueError, KeyError, TypeError, AttributeError, msgpack.ExtraData):
                    if _zeros_from(f, start, self.size):
                        self.damaged_tail = self.size - start
                        return
                    raise CassetteError(f"{self.path}: object {n + 2} at byte {start} is not an interaction") from None


def _validate(obj: Any) -> None:
    # Same check as load(), so a recorder never appends to a file that load() would refuse; keeps nothing.
    Interaction.from_obj(obj)


def check_for_append(path: Path) -> tuple[Header, int, int]:
    """What a recorder reopening ``path`` needs: its header, the offset just past the last whole interaction
    and the file's size; raises :class:`CassetteError` where :func:`load` would."""
    with _open_for_reading(path) as f:
        header, _, end, size, _ = _scan(path, f, _validate)
    return header, end, size


# ---------------------------------------------------------------- writing


def _fsync_dir(folder: Path) -> None:
    # Makes the rename itself durable; not possible (nor needed) on every platform.
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _write_temp(path: Path, chunks: Iterable[bytes]) -> Path:
    """``chunks`` in a new temporary file beside ``path``, on disk (fsync) and with ``path``'s mode if it exists."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0), 0o666)
    try:
        try:
            with os.fdopen(fd, "wb", closefd=False) as f:
                for chunk in chunks:
                    f.write(chunk)
            if path.exists():
                os.chmod(tmp, stat.S_IMODE(path.stat().st_mode))
            os.fsync(fd)
        finally:
            os.close(fd)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


def replace_atomically(path: Path, chunks: Iterable[bytes]) -> None:
    """Write ``chunks`` to a temporary file beside ``path``, fsync it, and rename it over ``path``."""
    tmp = _write_temp(path, chunks)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def create_exclusively(path: Path, chunks: Iterable[bytes]) -> bool:
    """Make ``path`` hold ``chunks`` if no file is there yet, in one step; False (and nothing written) if one is.

    The file appears whole (written beside it, then hard-linked into place, which fails if the name is taken),
    so two writers creating one cassette at once cannot both believe they made it and replace each other's file.
    """
    tmp = _write_temp(path, chunks)
    try:
        os.link(tmp, path)
    except FileExistsError:
        return False
    finally:
        tmp.unlink(missing_ok=True)
    _fsync_dir(path.parent)
    return True


def save(path: str | Path, header: Header, interactions: Iterable[Interaction]) -> None:
    packer = msgpack.Packer(use_bin_type=True)

    def chunks() -> Iterable[bytes]:
        yield packer.pack(header.to_obj())
        for interaction in interactions:
            yield packer.pack(interaction.to_obj())

    replace_atomically(Path(path), chunks())
