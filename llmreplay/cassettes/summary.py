"""What ``cassettes show`` lists and what ``cassettes verify`` checks, per interaction."""

from __future__ import annotations

import itertools
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache

from llmreplay.cassettes.model import Interaction
from llmreplay.cassettes.provenance import describe, model_of
from llmreplay.cassettes.vcr import match_route
from llmreplay.codec import Codec
from llmreplay.model import Reply


@cache
def codecs() -> dict[str, Codec]:
    """Every generation codec by api name."""
    from llmreplay.providers.registry import routes

    return {r.codec.api: r.codec for r in routes() if r.op is None}


def generation_codec(it: Interaction) -> Codec | None:
    """The codec that parses this interaction's body, if it is a generation call."""
    found = match_route(it.request.method, it.request.path)
    if found is None or found[0].op is not None:
        return None
    return codecs().get(it.api or "") or found[0].codec


def reply_of(it: Interaction) -> Reply | None:
    """The reply a generation interaction carries, or None when it has none or cannot be parsed."""
    codec = generation_codec(it)
    if codec is None or not 200 <= it.response.status < 300:
        return None
    try:
        if it.response.events is not None:
            return codec.events_to_reply(codec.parse_events(it.response.raw))
        return codec.body_to_reply(it.response.body or b"")
    except Exception:  # a body the codec does not understand simply has no reply to show
        return None


@dataclass(frozen=True, slots=True)
class Row:
    index: int
    endpoint: str
    model: str
    status: int
    stream: bool
    events: int
    ttft_ms: float
    duration_ms: float
    output_tps: float | None
    made: str = "-"
    """How the recording was made (:func:`~llmreplay.cassettes.provenance.describe`)."""


def row(index: int, it: Interaction) -> Row:
    resp = it.response
    events = resp.events or ()
    first_us = events[0].at_us if events else resp.end_us
    reply = reply_of(it)
    tps: float | None = None
    if reply is not None and reply.usage.output_tokens:
        # Tokens arrive between the first event and the end; a plain body has them all at once.
        span_us = resp.end_us - first_us if events else resp.end_us
        if span_us > 0:
            tps = reply.usage.output_tokens / (span_us / 1e6)
    return Row(
        index,
        it.endpoint,
        model_of(it),
        resp.status,
        resp.stream,
        len(events),
        first_us / 1000,
        resp.end_us / 1000,
        tps,
        describe(it),
    )


def rows(interactions: Iterable[Interaction]) -> list[Row]:
    return [row(i, it) for i, it in enumerate(interactions)]


HEADINGS = ("#", "endpoint", "model", "status", "stream", "events", "TTFT ms", "duration ms", "output tok/s", "made")


def cells(r: Row) -> tuple[str, ...]:
    return (
        str(r.index),
        r.endpoint,
        r.model or "-",
        str(r.status),
        "yes" if r.stream else "no",
        str(r.events) if r.stream else "-",
        f"{r.ttft_ms:.0f}",
        f"{r.duration_ms:.0f}",
        "-" if r.output_tps is None else f"{r.output_tps:.1f}",
        r.made,
    )


def table(header: tuple[str, ...], body: list[tuple[str, ...]], left: frozenset[int] = frozenset({1, 2, 4, 9})) -> str:
    """Columns padded to their widest cell; the ``left`` columns (text) flush left, the others (numbers) right."""
    widths = [max(len(c) for c in col) for col in zip(header, *body, strict=True)]

    def line(cs: tuple[str, ...]) -> str:
        return "  ".join(
            c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(cs, widths, strict=True))
        )

    return "\n".join(line(cs).rstrip() for cs in [header, *body])


# ---- verify -------------------------------------------------------------------------------------


def problems(index: int, it: Interaction) -> list[str]:
    """What is wrong with one interaction: timing out of order, streams or bodies its codec rejects."""
    out: list[str] = []
    resp = it.response
    tag = f"#{index} {it.request.method} {it.request.path}"
    problem = resp.unreadable()
    if problem is not None:
        return [f"{tag}: {problem}"]
    if resp.events is not None and resp.body is not None:
        out.append(f"{tag}: has both a body and events")
    if resp.events:
        ats = [e.at_us for e in resp.events]
        if any(b < a for a, b in itertools.pairwise(ats)):
            out.append(f"{tag}: event times go backwards")
        if resp.end_us < ats[-1]:
            out.append(f"{tag}: end_us {resp.end_us} is before the last event ({ats[-1]})")
    if resp.headers_us < 0 or resp.end_us < resp.headers_us:
        out.append(f"{tag}: headers_us {resp.headers_us} / end_us {resp.end_us} out of order")
    if it.api is not None and it.api not in codecs():
        out.append(f"{tag}: unknown api {it.api!r}")
        return out
    codec = generation_codec(it)
    if codec is None or not 200 <= resp.status < 300:
        return out
    if resp.events is not None:
        raw = resp.raw
        try:
            events = codec.parse_events(raw)
        except Exception as exc:
            out.append(f"{tag}: stream does not parse as {codec.api}: {exc}")
            return out
        try:
            again = codec.encode_events(events)
        except Exception as exc:
            out.append(f"{tag}: stream does not re-encode as {codec.api}: {exc}")
            return out
        if again != raw:
            at = next(
                (i for i, (a, b) in enumerate(zip(again, raw, strict=False)) if a != b), min(len(again), len(raw))
            )
            out.append(f"{tag}: stream re-encodes differently from byte {at}")
        try:
            codec.events_to_reply(events)
        except Exception as exc:
            out.append(f"{tag}: stream has no {codec.api} reply: {exc}")
    elif _is_json(it):
        try:
            codec.body_to_reply(resp.body or b"")
        except Exception as exc:
            out.append(f"{tag}: body has no {codec.api} reply: {exc}")
    return out


def _is_json(it: Interaction) -> bool:
    ctype = next((v for k, v in it.response.headers if k == "content-type"), "")
    return "json" in ctype.lower() or (it.response.body or b"").lstrip()[:1] == b"{"


__all__ = ["HEADINGS", "Row", "cells", "codecs", "generation_codec", "model_of", "problems", "reply_of", "row", "rows"]
