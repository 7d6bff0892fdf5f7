"""How a missed call differs from a recording, one readable line per field, as matching sees both.

Both sides are compared after the scrub and the normalisers, so what is listed is what kept the key apart:
a field the recording lacks and the codec does not count is not listed, nor an id that only differs by run.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from llmreplay.cassettes.keys import (
    MatchConfig,
    RequestLike,
    View,
    clean,
    header,
    query_pairs,
    view_of,
)
from llmreplay.providers.registry import stream_neutral_path

_MAX_VALUE = 60


class _Absent:
    pass


_ABSENT = _Absent()


def _show(value: Any) -> str:
    if value is _ABSENT:
        return "(absent)"
    text = f"'{value}'" if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= _MAX_VALUE else text[: _MAX_VALUE - 1] + "…"


def _walk(rec: Any, got: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    """Dotted paths at which two JSON trees differ, with the two values there."""
    if isinstance(rec, dict) and isinstance(got, dict):
        for k in sorted(set(rec) | set(got)):
            yield from _walk(rec.get(k, _ABSENT), got.get(k, _ABSENT), f"{path}.{k}" if path else str(k))
    elif isinstance(rec, list) and isinstance(got, list):
        for i in range(max(len(rec), len(got))):
            a = rec[i] if i < len(rec) else _ABSENT
            b = got[i] if i < len(got) else _ABSENT
            yield from _walk(a, b, f"{path}.{i}" if path else str(i))
    elif type(rec) is not type(got) or rec != got:
        yield (path or "body", rec, got)


def _body(view: View, names: list[str], cfg: MatchConfig) -> Any:
    """The body as its key sees it, with the recording's other fields ``names``; a string for one that is not
    JSON (its digest)."""
    body = json.loads(view.base)[-1]
    if not isinstance(body, dict):
        return body
    seen = dict(view.seen)
    for n in names:
        if n in view.rest:
            body[n] = json.loads(clean(json.dumps(view.rest[n], sort_keys=True, separators=(",", ":")), cfg, seen))
    return body


def _digest(body: Any) -> bool:
    return isinstance(body, str) and body.startswith("sha256:")


def differences(recorded: RequestLike, got: RequestLike, cfg: MatchConfig, verbatim: bool = False) -> list[str]:
    """Every difference between two requests that matters to the key, one readable line each.

    ``verbatim``: the recording is on a path no codec knows, keyed on the exact query and every body field.
    """
    out: list[str] = []
    if recorded.method.upper() != got.method.upper():
        out.append(f"method: recorded {recorded.method.upper()}, got {got.method.upper()}")
    rpath, gpath = recorded.path, got.path
    if not cfg.stream_in_key and not verbatim:
        rpath, gpath = stream_neutral_path(rpath), stream_neutral_path(gpath)
    if rpath != gpath:
        out.append(f"path: recorded {_show(recorded.path)}, got {_show(got.path)}")
    if ("query" in cfg.match_on or verbatim) and query_pairs(recorded) != query_pairs(got):
        out.append(f"query: recorded {_show(query_pairs(recorded))}, got {_show(query_pairs(got))}")
    for part in cfg.match_on:
        if part.startswith("headers:") and not verbatim:
            name = part.split(":", 1)[1]
            if header(recorded, name) != header(got, name):
                out.append(f"{part}: recorded {_show(header(recorded, name))}, got {_show(header(got, name))}")
    if not verbatim and "body" not in cfg.match_on:
        return out
    rv, gv = view_of(recorded, cfg, verbatim), view_of(got, cfg, verbatim)
    names = sorted(rv.rest)
    try:
        rec, new = _body(rv, names, cfg), _body(gv, names, cfg)
    except ValueError:  # a user's normaliser left text that is not JSON: the texts are all there is
        rec, new = rv.base, gv.base
    if _digest(rec) or _digest(new):
        if rec != new:
            out.append(f"body: recorded {len(recorded.body)} bytes, got {len(got.body)} bytes (not JSON)")
        return out
    out.extend(f"{p}: recorded {_show(a)}, got {_show(b)}" for p, a, b in _walk(rec, new, ""))
    return out
