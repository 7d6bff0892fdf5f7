"""``llmreplay cassettes …``: list, show, verify, import from vcrpy YAML, export to JSON and back.

Errors are one line on stderr and exit code 2 (``verify`` exits 1 when it finds problems).
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, NoReturn

import click

from llmreplay.cassettes.model import Interaction

PROGRESS_ITEMS = 200
"""More interactions than this in one file get a progress bar."""


def _fail(message: str) -> NoReturn:
    click.echo(f"llmreplay: error: {message}", err=True)
    sys.exit(2)


@contextmanager
def _errors() -> Iterator[None]:
    """Known failures (unreadable file, not a cassette) as one line and exit 2."""
    from llmreplay.cassettes.jsonio import JsonCassetteError
    from llmreplay.cassettes.store import CassetteError
    from llmreplay.cassettes.vcr import VcrError

    try:
        yield
    except (CassetteError, VcrError, JsonCassetteError) as exc:
        _fail(str(exc))
    except OSError as exc:
        _fail(f"{exc.filename or ''}: {exc.strerror or exc}".lstrip(": "))


def _load(path: str) -> Any:
    from llmreplay.cassettes import store

    p = Path(path)
    if not p.is_file():
        _fail(f"{p}: no such cassette file")
    return store.load(p)


def _progress(items: list[Any], label: str, show: bool) -> Any:
    """A progress bar on stderr when ``show``; otherwise the items as they are."""
    if not show:

        @contextmanager
        def plain() -> Iterator[list[Any]]:
            yield items

        return plain()
    return click.progressbar(items, label=label, file=sys.stderr)


def _size(n: int) -> str:
    for unit in ("B", "KiB", "MiB"):
        if n < 1024 or unit == "MiB":
            return f"{n} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return f"{n} B"


@click.group()
def cassettes() -> None:
    """Inspect, check, import and export recorded cassettes."""


@cassettes.command("list")
@click.argument("folder", default="cassettes", required=False)
def list_cmd(folder: str) -> None:
    """List the cassettes in FOLDER (default ./cassettes)."""
    from llmreplay.cassettes import store
    from llmreplay.cassettes.summary import table

    if not Path(folder).is_dir():
        _fail(f"{folder}: no such folder")
    rows: list[tuple[str, ...]] = []
    with _errors():
        for p in store.list_cassettes(folder):
            c = store.load(p)
            rows.append(
                (
                    p.stem,
                    str(len(c.interactions)),
                    _size(p.stat().st_size),
                    _created(c.header.created),
                    c.header.upstream,
                )
            )
    if not rows:
        click.echo(f"no cassettes in {folder}")
        return
    click.echo(table(("name", "interactions", "size", "created", "upstream"), rows, frozenset({0, 3, 4})))


@cassettes.command()
@click.argument("file")
def show(file: str) -> None:
    """A table of FILE's interactions: endpoint, model, status, timing and output speed."""
    from llmreplay.cassettes.summary import HEADINGS, cells, row, table

    with _errors():
        c = _load(file)
    h = c.header
    click.echo(
        f"{c.path.name}: {len(c.interactions)} interactions · upstream {h.upstream or '-'} · created {h.created}"
    )
    if c.damaged_tail:
        click.echo(f"warning: {c.damaged_tail} bytes of damaged tail ignored", err=True)
    if c.interactions:
        with _progress(list(enumerate(c.interactions)), "reading", len(c.interactions) > PROGRESS_ITEMS) as items:
            body = [cells(row(i, it)) for i, it in items]
        click.echo(table(HEADINGS, body))


@cassettes.command()
@click.argument("file")
def verify(file: str) -> None:
    """Check FILE: its format, and that every stream and body parses with its API's codec.

    Exits 0 with "ok: N interactions", or 1 listing every problem.
    """
    from llmreplay.cassettes.store import Walk
    from llmreplay.cassettes.summary import problems

    if not Path(file).is_file():
        _fail(f"{file}: no such cassette file")
    found: list[str] = []
    # One interaction at a time, each let go of once checked: a file larger than memory can be verified.
    with _errors():
        walk = Walk(file)
        with _progress(list(range(len(walk))), "verifying", len(walk) > PROGRESS_ITEMS) as bar:
            checked = 0
            for i, it in zip(bar, walk, strict=False):
                found.extend(problems(i, it))
                checked += 1
    tail = f"{walk.damaged_tail} bytes of damaged tail after the last complete interaction"
    found[:0] = [*([tail] if walk.damaged_tail else []), *walk.skipped]
    if found:
        for line in found:
            click.echo(line)
        click.echo(f"{len(found)} problem(s) in {walk.path.name}", err=True)
        sys.exit(1)
    click.echo(f"ok: {checked} interactions")


_FORCE = click.option("--force", is_flag=True, help="Replace a cassette that exists already.")
_MERGE = click.option(
    "--merge", is_flag=True, help="Add to a cassette that exists already (its header and recordings are kept)."
)


def _check_target(target: Path, force: bool, merge: bool) -> None:
    """An import never replaces a cassette silently: one that exists needs --force or --merge."""
    if force and merge:
        _fail("--force and --merge exclude each other")
    if target.exists() and not (force or merge):
        _fail(f"{target}: cassette exists; use --force to replace it or --merge to add to it")


def _write(target: Path, header: Any, items: list[Interaction], merge: bool) -> int:
    """Save ``items`` as the cassette ``target`` (after its recordings, with its header, under --merge); the
    number of recordings it holds."""
    from llmreplay.cassettes import store

    if merge and target.exists():
        old = store.load(target)
        header, items = old.header, [*old.interactions, *items]
    store.save(target, header, items)
    return len(items)


def _unique(name: str, used: set[str]) -> str:
    out, n = name, 2
    while out in used:
        out, n = f"{name}-{n}", n + 1
    used.add(out)
    return out


@cassettes.command("import-vcr")
@click.argument("files", nargs=-1, required=True)
@click.option("--cassettes", "folder", default="cassettes", show_default=True, help="Folder to write cassettes to.")
@click.option(
    "--ttft-ms", type=click.FloatRange(min=0), default=300.0, show_default=True, help="Synthetic first-event time."
)
@click.option(
    "--gap-ms", type=click.FloatRange(min=0), default=20.0, show_default=True, help="Synthetic time between events."
)
@_FORCE
@_MERGE
def import_vcr(files: tuple[str, ...], folder: str, ttft_ms: float, gap_ms: float, force: bool, merge: bool) -> None:
    """Turn vcrpy / pytest-recording YAML cassettes into llmreplay cassettes in FOLDER, one per file.

    Recordings have no timing, so streams get a synthetic one: the first event at
    --ttft-ms, then one every --gap-ms. Credentials are scrubbed. A cassette that
    exists already is left alone unless --force (replace it) or --merge (add to it).
    """
    from llmreplay.cassettes import provenance, store
    from llmreplay.cassettes.vcr import Timing, cassette_name, iter_import

    for f in files:
        if not Path(f).is_file():
            _fail(f"{f}: no such file")
    timing = Timing(ttft_ms, gap_ms)
    used: set[str] = set()
    written: list[tuple[Path, int]] = []
    with _errors():
        # Every target is checked before any is written, so a refusal leaves the folder as it was.
        for f in files:
            _check_target(store.cassette_path(folder, _unique(cassette_name(f), used)), force, merge)
        used.clear()
        Path(folder).mkdir(parents=True, exist_ok=True)
        with _progress(list(files), "importing", len(files) > 1) as todo:
            for f in todo:
                upstream, count, its = iter_import(f, timing)
                items: list[Interaction] = []
                with _progress(list(range(count)), Path(f).name, len(files) == 1 and count > PROGRESS_ITEMS) as bar:
                    for _, it in zip(bar, its, strict=True):
                        items.append(it)
                target = store.cassette_path(folder, _unique(cassette_name(f), used))
                made = {"how": provenance.IMPORTED, "from": "vcr", "file": Path(f).name}
                header = dataclasses.replace(store.new_header(upstream), provenance=made)
                written.append((target, _write(target, header, items, merge)))
    for target, n in written:
        click.echo(f"{target}: {n} interactions")


@cassettes.command()
@click.argument("file")
@click.option("--format", "fmt", type=click.Choice(["json"]), default="json", show_default=True, help="Output format.")
@click.option("-o", "--output", default=None, help="File to write (default: standard output).")
def export(file: str, fmt: str, output: str | None) -> None:
    """Write cassette FILE as one JSON document (bytes as UTF-8 text or base64)."""
    from llmreplay.cassettes import jsonio

    with _errors():
        c = _load(file)
        text = jsonio.dumps(c.header, c.interactions)
        if output is None:
            click.echo(text, nl=False)
        else:
            Path(output).write_text(text, encoding="utf-8")
            click.echo(f"{output}: {len(c.interactions)} interactions", err=True)


@cassettes.command("import-json")
@click.argument("file")
@click.option("--cassettes", "folder", default="cassettes", show_default=True, help="Folder to write the cassette to.")
@click.option("--name", default=None, help="Cassette name (default: FILE's name without .json).")
@_FORCE
@_MERGE
def import_json(file: str, folder: str, name: str | None, force: bool, merge: bool) -> None:
    """Turn a JSON document written by ``export`` back into a cassette in FOLDER.

    A cassette that exists already is left alone unless --force (replace it) or --merge (add to it).
    """
    from llmreplay.cassettes import jsonio, store
    from llmreplay.cassettes.vcr import cassette_name

    if not Path(file).is_file():
        _fail(f"{file}: no such file")
    with _errors():
        target = store.cassette_path(folder, name or cassette_name(file))
        _check_target(target, force, merge)
        header, items = jsonio.load(file)
        Path(folder).mkdir(parents=True, exist_ok=True)
        total = _write(target, header, items, merge)
    click.echo(f"{target}: {total} interactions")


@cassettes.command("diff")
@click.argument("a")
@click.argument("b")
def diff_cmd(a: str, b: str) -> None:
    """What changed from cassette A to cassette B: requests added or removed, answers, usage and timing.

    Recordings are paired by their request as replay matches it. Exits 0 when nothing changed, 1 otherwise.
    """
    from llmreplay.cassettes.diff import diff

    with _errors():
        old, new = _load(a), _load(b)
    found = diff(old.interactions, new.interactions)
    for line in found.lines(old.path.name, new.path.name):
        click.echo(line)
    if not found.empty:
        sys.exit(1)


@cassettes.command()
@click.argument("paths", nargs=-1)
@click.option(
    "--usage",
    "reports",
    multiple=True,
    required=True,
    help="A usage report of the run: the server's --usage-report file, GET /api/cassette-usage saved, or the "
    "pytest plugin's --llmreplay-usage-report (repeat to add runs up).",
)
def stale(paths: tuple[str, ...], reports: tuple[str, ...]) -> None:
    """Recordings in PATHS (cassette files or folders; default ./cassettes) the run never used, and the
    requests it sent that no recording matched.

    Exits 0 when every recording was used and nothing missed, 1 otherwise.
    """
    from llmreplay.cassettes import store, usage
    from llmreplay.cassettes.stale import report_lines

    files: list[Path] = []
    for p in paths or ("cassettes",):
        if Path(p).is_dir():
            files.extend(store.list_cassettes(p))
        elif Path(p).is_file():
            files.append(Path(p))
        else:
            _fail(f"{p}: no such cassette file or folder")
    try:
        report = usage.merge(usage.load(r) for r in reports)
    except usage.UsageError as exc:
        _fail(str(exc))
    with _errors():
        loaded = [store.load(f) for f in files]
    lines, found = report_lines(loaded, report)
    for line in lines:
        click.echo(line)
    if found:
        sys.exit(1)


def _created(value: str) -> str:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).strftime("%Y-%m-%d %H:%M")
    except ValueError:
        return value


__all__ = ["cassettes"]
