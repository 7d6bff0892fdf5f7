"""Background responses (``background: true``) on the wire, free of the store and of time.

The real service answers a background request at once with the response ``queued``, makes it meanwhile
(``in_progress`` to a ``GET``), and then keeps it ``completed`` (or ``failed``); ``POST …/cancel`` stops one
still running (``cancelled``) and answers a finished one with its final object (cancelling twice is
idempotent); a response made without ``background`` cannot be cancelled. Here the answer is made at once,
through the road like any other, and the store (:mod:`llmreplay.state.responses`) keeps it with the time the
shaper says it is done: until then it is shown running. This module makes those forms of a kept response.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import orjson

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Answer, Call, Frame, Request
from llmreplay.providers import openai_common
from llmreplay.providers.base import RenderOptions, Route, dumps
from llmreplay.providers.openai_chat import STREAM_CONTENT_TYPE
from llmreplay.providers.openai_responses import CODEC
from llmreplay.providers.openai_responses_store import API, Stored, not_found

INTERRUPTED = "The response was interrupted before it was complete (a fault injected by llmreplay)."


def requested(request: Request) -> bool:
    """Whether ``request`` asks for a background response."""
    return request.api == API and request.body.get("background") is True


def check(request: Request) -> None:
    """The API's 400 for ``background: true`` with ``store: false`` (a background response is polled, so kept)."""
    if requested(request) and request.body.get("store") is False:
        raise ApiError(
            ErrorKind.INVALID_REQUEST, "background can only be used when `store` is true", param="background"
        )


def running(rec: Stored, now: float) -> bool:
    """Whether background response ``rec`` is still being made at ``now``."""
    return rec.done_at is not None and now < rec.done_at


def with_status(response: bytes, status: str, error: dict[str, str] | None = None) -> bytes:
    """The response object as it is shown while ``status`` (``queued``, ``in_progress``, ``cancelled``,
    ``failed``): no output or usage yet, nor ever for the last two."""
    obj: dict[str, Any] = orjson.loads(response)
    obj.update(status=status, output=[], usage=None, completed_at=None, error=error, incomplete_details=None)
    return dumps(obj)


def made(rec: Stored, done_at: float, interrupted: bool, events: bytes = b"") -> Stored:
    """``rec``, a response made with ``background: true``, as kept until ``done_at``: done then, ``failed`` if a
    fault ``interrupted`` its making; a stream's ``events`` (:func:`events_of`) kept to resume it."""
    response = rec.response
    if interrupted:
        response = with_status(response, "failed", {"code": "server_error", "message": INTERRUPTED})
    return dataclasses.replace(rec, response=response, background=True, done_at=done_at, events=events)


def events_of(made: Answer, shaped: Answer) -> bytes:
    """A background stream's events as made, each at the time the shaper gave it: a fault that cut the client's
    stream short leaves the making alone, so the events past the cut are kept too (at the cut's time)."""
    times = [f.at or 0.0 for f in shaped.frames]
    last = times[-1] if times else 0.0
    return dumps([[times[i] if i < len(times) else last, f.data.decode()] for i, f in enumerate(made.frames)])


def resume(call: Call, opts: RenderOptions, rec: Stored, now: float) -> Answer:
    """``GET /v1/responses/{id}?stream=true&starting_after=N`` of a background stream: its events after sequence
    number ``N`` (all without it), each when it was due: at once if that is past, else as it is made."""
    after = call.query.get("starting_after", "-1")
    try:
        first = int(after) + 1
    except ValueError:
        raise ApiError(
            ErrorKind.INVALID_REQUEST, "Invalid 'starting_after': expected an integer.", param="starting_after"
        ) from None
    events = orjson.loads(rec.events)
    # The events are numbered from 0 in order, so an event's sequence number is its place.
    arrived = (rec.done_at or now) - events[-1][0]
    frames = tuple(Frame(data.encode(), at=max(0.0, arrived + at - now)) for at, data in events[max(0, first) :])
    headers = (("content-type", STREAM_CONTENT_TYPE), *openai_common.base_headers(opts).items())
    return Answer(200, headers, frames, stream=True)


def as_of(rec: Stored, now: float) -> Stored:
    """``rec`` as a ``GET`` shows it at ``now``: ``in_progress`` while it runs, else as kept."""
    if not running(rec, now):
        return rec
    return dataclasses.replace(rec, response=with_status(rec.response, "in_progress"))


def cancelled(rec: Stored) -> Stored:
    """A running ``rec`` stopped: ``cancelled``, and done."""
    return dataclasses.replace(rec, response=with_status(rec.response, "cancelled"), done_at=None, events=b"")


def queued(answer: Answer, rec: Stored) -> Answer:
    """What the client of a background request gets at once: the response ``queued``, with ``answer``'s
    headers."""
    return Answer(answer.status, answer.headers, (Frame(with_status(rec.response, "queued"), at=0.0),))


def cancel(call: Call, opts: RenderOptions, stored: Stored | None = None) -> Answer:
    """``POST /v1/responses/{response_id}/cancel``: the response as it stands once the store has cancelled it
    (a finished one: as it finished)."""
    if stored is None:
        return openai_common.render_error(not_found(call.params.get("response_id", "")), opts)
    if not stored.background:
        return openai_common.render_error(
            ApiError(ErrorKind.INVALID_REQUEST, "Cannot cancel a synchronous response."), opts
        )
    return Answer(
        200,
        (("content-type", "application/json"), *openai_common.base_headers(opts).items()),
        (Frame(stored.response),),
    )


ROUTES = [Route("POST", "/v1/responses/{response_id}/cancel", "responses", CODEC, op=cancel)]

__all__ = [
    "ROUTES",
    "as_of",
    "cancel",
    "cancelled",
    "check",
    "events_of",
    "made",
    "queued",
    "requested",
    "resume",
    "running",
    "with_status",
]
