"""An entry as JSON: the request as sent (secrets redacted, the body cut to size), its neutral view, and what
answered. Built only when the journal is read, never on the data path.

What a secret is has one home, the cassette scrubber (:mod:`llmreplay.cassettes.scrub`): every codec's
credential and account headers, HTTP's own (cookie, proxy-authorization), credential query parameters
(``key=``), and, in any header, query value or the body, whatever is shaped like a provider key or a bearer
token. The journal shows them as ``[redacted]``.
"""

from __future__ import annotations

import datetime
import functools
import json
from typing import Any

from llmreplay.cassettes.model import RecordedRequest
from llmreplay.cassettes.scrub import Scrubber, ScrubConfig
from llmreplay.journal.entry import Entry
from llmreplay.model import Candidate, Reply, Request, Thinking

REDACTED = "[redacted]"


@functools.cache
def _scrubber() -> Scrubber:
    return Scrubber(ScrubConfig(placeholder=REDACTED))


def without_keys(path: str) -> str:
    """``path`` (or a model name taken from one) as the journal, the access log and the event feed show it: a
    key-shaped part (a Gemini model name, a file id) replaced as in a recording."""
    return _scrubber().request(RecordedRequest("GET", path)).path


def iso(t: float) -> str:
    """Unix seconds as ISO 8601 UTC with milliseconds (``2025-01-02T03:04:05.678Z``)."""
    moment = datetime.datetime.fromtimestamp(t, datetime.UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def summary(e: Entry) -> dict[str, Any]:
    """The fields of a list row: everything but the request and the reply."""
    return {
        "id": e.id,
        "time": iso(e.time),
        "test_id": e.test_id,
        "endpoint": e.endpoint,
        "method": e.method,
        "path": without_keys(e.path),
        "model": None if e.model is None else without_keys(e.model),
        "status": e.status,
        "stream": e.stream,
        "source": e.source,
        "answered_by": e.answered_by,
        "outcome": e.outcome,
        "ttfb_ms": _ms(e.ttfb_ms),
        "duration_ms": _ms(e.duration_ms),
        "chunks": e.chunks,
        "input_tokens": e.input_tokens,
        "output_tokens": e.output_tokens,
        "cost_usd": e.cost_usd,
        "done": e.done,
    }


def as_json(e: Entry) -> dict[str, Any]:
    """The whole entry: :func:`summary`, plus ``request`` (as sent, redacted), ``neutral`` and ``reply``."""
    out = summary(e)
    out["request"] = _sent(e)
    req = e.request if e.request is not None else _read(e)
    out["neutral"] = None if req is None else neutral(req)
    out["reply"] = None if e.reply is None else reply(e.reply)
    out["catalogue"] = catalogue(e)
    return out


UNKNOWN_MODEL = (
    "not in the model catalogue: no context window or output maximum enforced, no reasoning tokens of its own, "
    "no price (docs/models.md)"
)


def catalogue(e: Entry) -> dict[str, Any] | None:
    """What the model catalogue says of the entry's model; for a model it does not know, that it does not (so
    a test that expected limits or a cost learns why there were none). None where no request was read."""
    fam = e.family
    if fam is None:
        return None
    if not fam.known:
        return {"known": False, "note": UNKNOWN_MODEL}
    return {
        "known": True,
        "family": fam.pattern,
        "name": fam.name,
        "context_window": fam.context_window,
        "max_output_tokens": fam.max_output_tokens,
        "reasoning": fam.reasoning,
        "prices_taken": fam.prices_taken,
        "source": fam.source,
    }


def _read(e: Entry) -> Request | None:
    """The neutral view read again from the call, as the road read it (None where it cannot be: a body the
    journal kept cut, a call no codec reads)."""
    if e.codec is None or e.body_cut:
        return None
    try:
        return e.codec.parse_request(e.call)
    except Exception:  # the road answered it already; a view that cannot be built is shown as none
        return None


def _ms(v: float | None) -> float | None:
    return None if v is None else round(v, 3)


def _sent(e: Entry) -> dict[str, Any]:
    call = e.call
    scrubbed = _scrubber().request(
        RecordedRequest(call.method, call.path, tuple(call.query.items()), tuple(call.headers.items()), call.body)
    )
    return {
        "headers": dict(scrubbed.headers),
        "query": dict(scrubbed.query),
        "body": _body(scrubbed.body),
        "truncated": e.body_cut,
    }


def _body(raw: bytes) -> Any:
    """JSON where the body parses, else its text (a cut body does not parse: it is shown as text)."""
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return raw.decode("utf-8", errors="replace")


def neutral(r: Request) -> dict[str, Any]:
    """The neutral request: what rules match on and synthesis reads."""
    return {
        "api": r.api,
        "model": r.model,
        "system": r.system,
        "messages": [
            {
                "role": m.role,
                "text": m.text,
                "results": [{"call_id": t.call_id, "name": t.name, "content": t.content} for t in m.results],
            }
            for m in r.messages
        ],
        "tools": [{"name": t.name, "description": t.description, "schema": dict(t.schema)} for t in r.tools],
        "tool_choice": {"mode": r.tool_choice.mode, "names": list(r.tool_choice.names)},
        "output": {"kind": r.output.kind, "schema": r.output.schema, "name": r.output.name},
        "stream": r.stream,
        "max_tokens": r.max_tokens,
    }


def reply(r: Reply) -> dict[str, Any]:
    """The neutral reply's first candidate (the others, with ``n`` > 1, under ``candidates``)."""
    first = r.candidates[0] if r.candidates else Candidate(())
    out = _candidate(first)
    out["usage"] = {
        "input_tokens": r.usage.input_tokens,
        "output_tokens": r.usage.output_tokens,
        "reasoning_tokens": r.usage.reasoning_tokens,
    }
    if len(r.candidates) > 1:
        out["candidates"] = [_candidate(c) for c in r.candidates]
    return out


def _candidate(c: Candidate) -> dict[str, Any]:
    thinking = "".join(p.text for p in c.parts if isinstance(p, Thinking))
    out: dict[str, Any] = {
        "text": c.text,
        "tool_calls": [{"id": t.id, "name": t.name, "arguments": _arguments(t.arguments)} for t in c.tool_calls],
        "finish": str(c.finish),
    }
    if thinking:
        out["thinking"] = thinking
    return out


def _arguments(text: str) -> Any:
    try:
        return json.loads(text) if text else {}
    except ValueError:
        return text
