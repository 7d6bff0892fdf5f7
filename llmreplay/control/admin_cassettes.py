"""The admin API's cassette routes, under ``/api/cassettes``: list, load, unload and reload, at run time.

A cassette is loaded from a file or each of a folder's (paths on the server's disk, relative to its
``--cassettes`` folder), under the file's name or one given: a test id, say, so that the test's requests replay
from it (docs/cassettes.md, "One server, many tests"). Reading happens off the event loop; the cassettes in
play are swapped only once the file is read whole. With ``--state redis://…`` a change is shared: every process
loads (or unloads) the same file from its own disk (:meth:`State.share_cassettes`); cursors stay each process's
own.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pydantic
from aiohttp import web

from llmreplay.cassettes.catalog import Loaded, read, read_many
from llmreplay.cassettes.store import CassetteError, cassette_path
from llmreplay.control import adminio
from llmreplay.sources.deck import Deck


class LoadBody(pydantic.BaseModel):
    """What ``POST /api/cassettes`` loads: a file or folder, a name, or both."""

    model_config = pydantic.ConfigDict(extra="forbid")
    path: str | None = pydantic.Field(
        None,
        min_length=1,
        description="A cassette file, or a folder whose every cassette is loaded, on the server's disk; relative "
        "paths are under the server's --cassettes folder. Default: <name>.msgpack there.",
    )
    name: str | None = pydantic.Field(
        None,
        min_length=1,
        max_length=200,
        description="The name to load a file under (a test id gives that test the cassette); default: the file's "
        "name without .msgpack. A cassette of the same name is replaced.",
    )

    @pydantic.model_validator(mode="after")
    def _something(self) -> LoadBody:
        if self.path is None and self.name is None:
            raise ValueError("give a path, a name, or both")
        return self


def _deck(request: web.Request) -> Deck | web.Response:
    deck = adminio.runtime(request).deck
    if deck is None:
        msg = "this server has no cassettes: start it with --cassettes DIR (an empty folder will do) to load some"
        return adminio.json_response({"message": msg}, 409)
    return deck


def _listing(deck: Deck, **extra: Any) -> web.Response:
    catalog = deck.catalog
    return adminio.json_response(
        {
            **extra,
            "folder": str(deck.folder),
            "cassettes": [c.describe() for c in catalog.entries()],
            "interactions": catalog.interactions,
            "recording_into": sorted(str(p) for p in deck.recording_into()),
        }
    )


async def _share(request: web.Request, changes: list[tuple[str, str | None]]) -> None:
    """Tell the other processes (``--state``) to load (path) or unload (None) the same cassettes."""
    state = adminio.runtime(request).state
    for name, path in changes:
        await state.share_cassettes(name, path)


def _problem(field: str, msg: str, kind: str = "value_error") -> web.Response:
    return adminio.unprocessable([{"loc": ["body", field], "msg": msg, "type": kind}])


async def get_cassettes(request: web.Request) -> web.Response:
    deck = _deck(request)
    return deck if isinstance(deck, web.Response) else _listing(deck)


async def load_cassettes(request: web.Request) -> web.Response:
    deck = _deck(request)
    if isinstance(deck, web.Response):
        return deck
    data = await adminio.object_body(request)
    if isinstance(data, web.Response):
        return data
    try:
        body = LoadBody.model_validate(data)
    except pydantic.ValidationError as exc:
        return adminio.unprocessable([{**e, "loc": ["body", *e["loc"]]} for e in adminio.field_errors(exc)])
    try:
        if body.name is not None:
            cassette_path(deck.folder, body.name)
        target = deck.folder / body.path if body.path is not None else cassette_path(deck.folder, str(body.name))
    except CassetteError as exc:
        return _problem("name", str(exc))
    if not target.exists():
        return _problem("path" if body.path is not None else "name", f"{target}: no such file or folder")
    try:
        loaded = await asyncio.to_thread(read_many, target, body.name, deck.catalog.cfg)
    except (OSError, CassetteError) as exc:
        return _problem("path" if body.path is not None else "name", str(exc))
    for one in loaded:
        deck.catalog.put(one)
    await _share(request, [(one.name, str(one.path)) for one in loaded])
    return _listing(deck, loaded=[one.name for one in loaded])


async def unload_cassette(request: web.Request) -> web.Response:
    deck = _deck(request)
    if isinstance(deck, web.Response):
        return deck
    name = request.match_info["name"]
    if deck.catalog.drop(name) is None:
        return adminio.json_response({"message": f"no cassette named {name!r} is loaded"}, 404)
    await _share(request, [(name, None)])
    return _listing(deck, unloaded=name)


async def _reload(deck: Deck, entries: list[Loaded]) -> list[Loaded]:
    """Each of ``entries`` read again from its file (those with no file yet are left as they are)."""
    fresh = []
    for entry in entries:
        if Path(entry.path).is_file():
            fresh.append(await asyncio.to_thread(read, entry.path, entry.name, deck.catalog.cfg))
    for one in fresh:
        deck.catalog.put(one)
    return fresh


async def reload_all(request: web.Request) -> web.Response:
    return await _reload_named(request, None)


async def reload_one(request: web.Request) -> web.Response:
    return await _reload_named(request, request.match_info["name"])


async def _reload_named(request: web.Request, name: str | None) -> web.Response:
    deck = _deck(request)
    if isinstance(deck, web.Response):
        return deck
    if name is None:
        entries = deck.catalog.entries()
    else:
        found = deck.catalog.get(name)
        if found is None:
            return adminio.json_response({"message": f"no cassette named {name!r} is loaded"}, 404)
        entries = [found]
    try:
        fresh = await _reload(deck, entries)
    except (OSError, CassetteError) as exc:
        # Nothing was swapped: the cassettes in play stay as they were.
        return adminio.unprocessable([{"loc": ["path"], "msg": f"not reloaded: {exc}", "type": "value_error"}])
    await _share(request, [(one.name, str(one.path)) for one in fresh])
    return _listing(deck, reloaded=[one.name for one in fresh])


ROUTES: adminio.Routes = [
    ("GET", "/api/cassettes", get_cassettes, "Cassettes in play: name, file, interactions."),
    ("POST", "/api/cassettes", load_cassettes, "Load a cassette file (under a name) or a folder's cassettes."),
    ("POST", "/api/cassettes/reload", reload_all, "Read every loaded cassette again from its file."),
    ("DELETE", "/api/cassettes/{name}", unload_cassette, "Unload a cassette: no request replays from it."),
    ("POST", "/api/cassettes/{name}/reload", reload_one, "Read one cassette again from its file."),
]
BODIES: adminio.Bodies = {("POST", "/api/cassettes"): LoadBody}
