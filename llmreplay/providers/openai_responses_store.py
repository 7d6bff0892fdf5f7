"""What the stateful side of the OpenAI Responses API looks like on the wire, free of the store itself.

The real service keeps every response made with ``store`` (true by default): ``GET /v1/responses/{id}``
returns it, ``DELETE`` forgets it, ``GET …/input_items`` lists what it was asked, and a request naming it
as ``previous_response_id`` continues its conversation (an unknown id is a 400). The store
(:mod:`llmreplay.state.responses`) keeps :class:`Stored` records; this module makes them from an answer,
turns a chain of them into the earlier turns of a conversation, and renders the operations' answers. It does
no I/O: each operation gets the record the store found (None: not found), so that without a store it answers
as a server that keeps nothing would.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import orjson

from llmreplay.errors import ApiError, ErrorKind
from llmreplay.model import Answer, Call, Frame, Request
from llmreplay.providers import openai_common, openai_responses_request
from llmreplay.providers.base import RenderOptions, Route, dumps, json_answer, load_json
from llmreplay.providers.openai_responses import CODEC
from llmreplay.synth.tokens import prompt_tokens

API = openai_responses_request.API
PREVIOUS = "previous_response_id"
_COMPLETED = b"event: response.completed\n"
RUNNING = ("queued", "in_progress")
"""The statuses of a background response not done yet."""


@dataclass(frozen=True, slots=True)
class Stored:
    """One kept response: its object as sent, the input items it was asked (as JSON), and the response it
    continued."""

    id: str
    response: bytes
    """The response object; for a background response, as it stands once done."""
    inputs: bytes
    previous: str | None
    background: bool = False
    """Made with ``background: true``: it runs until ``done_at``, and may be cancelled meanwhile."""
    done_at: float | None = None
    """When a background response is done (Unix time); None once it is (or for any other)."""
    events: bytes = b""
    """A background stream's events, as JSON ``[[at, event], …]`` (``at`` its offset from the request's arrival),
    for a ``GET …?stream=true`` that resumes it; empty for any other response."""

    @property
    def size(self) -> int:
        """What it holds, in bytes (the store's bound counts these)."""
        return len(self.response) + len(self.inputs) + len(self.id) + len(self.events)

    def outputs(self) -> list[Any]:
        out = orjson.loads(self.response).get("output")
        return out if isinstance(out, list) else []

    def input_items(self) -> list[Any]:
        items = orjson.loads(self.inputs)
        return items if isinstance(items, list) else []


# ---- errors ------------------------------------------------------------------------------------


def previous_not_found(response_id: str) -> ApiError:
    """The real API's 400 for a ``previous_response_id`` it does not hold."""
    return ApiError(
        ErrorKind.INVALID_REQUEST,
        f"Previous response with id '{response_id}' not found.",
        param=PREVIOUS,
        code="previous_response_not_found",
    )


def not_found(response_id: str) -> ApiError:
    return ApiError(ErrorKind.NOT_FOUND, f"Response with id '{response_id}' not found.")


# ---- continuing a conversation ----------------------------------------------------------------


def previous_id(request: Request) -> str | None:
    """The response a Responses request continues, if it names one."""
    if request.api != API:
        return None
    prev = request.body.get(PREVIOUS)
    return prev if isinstance(prev, str) and prev else None


def history(chain: Sequence[Stored]) -> list[Any]:
    """The earlier turns of a conversation, oldest first, from its chain of responses (oldest first): each
    response's input items, then its output items."""
    items: list[Any] = []
    for rec in chain:
        items.extend(rec.input_items())
        items.extend(rec.outputs())
    return items


def continued(request: Request, earlier: Sequence[Any]) -> Request:
    """``request`` with the earlier turns before its own input, read by the codec as one conversation (a
    function_call_output finds its call's name there); the body is the client's own, for what is echoed."""
    data = {k: v for k, v in request.body.items() if k != PREVIOUS}
    data["input"] = [*earlier, *_own_items(request.body)]
    whole = openai_responses_request.parse_request(Call("POST", "/v1/responses", body=dumps(data)))
    return dataclasses.replace(whole, body=request.body, stream=request.stream)


def _own_items(body: Mapping[str, Any]) -> list[Any]:
    given = body.get("input")
    if isinstance(given, str):
        return [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": given}]}]
    return list(given) if isinstance(given, list) else []


# ---- keeping an answer ------------------------------------------------------------------------


def wants_stored(request: Request) -> bool:
    """Whether the real service would keep the response to ``request`` (``store`` is true unless set false)."""
    return request.api == API and request.body.get("store") is not False


def stored_of(answer: Answer, request: Request) -> Stored | None:
    """The record of a finished answer (a response object, or a stream's ``response.completed``); None for an
    error or an answer that holds no response object."""
    if answer.status != 200 or answer.live is not None or not answer.frames:
        return None
    if answer.stream:
        for frame in reversed(answer.frames):
            if frame.data.startswith(_COMPLETED):
                event = _data_of(frame.data)
                response = event.get("response") if isinstance(event, dict) else None
                if isinstance(response, dict):
                    return _record(response, dumps(response), request)
        return None
    body = b"".join(f.data for f in answer.frames)
    try:
        response = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None
    return _record(response, body, request) if isinstance(response, dict) else None


def _data_of(event: bytes) -> Any:
    for line in event.split(b"\n"):
        if line.startswith(b"data:"):
            try:
                return orjson.loads(line[5:])
            except orjson.JSONDecodeError:
                return None
    return None


def _record(response: Mapping[str, Any], raw: bytes, request: Request) -> Stored | None:
    rid = response.get("id")
    if response.get("object") != "response" or not isinstance(rid, str):
        return None
    if response.get("status") in RUNNING:
        return None  # an upstream's background response (recorded or live): its polls are its own to answer
    inputs = [_with_id(item, rid, i) for i, item in enumerate(_own_items(request.body))]
    return Stored(rid, raw, dumps(inputs), previous_id(request))


def _with_id(item: Any, rid: str, index: int) -> Any:
    """An input item as ``input_items`` lists it: a message gets its ``type`` and an id, as the service's do."""
    if not isinstance(item, dict):
        return item
    out = dict(item)
    if out.get("type") is None and "role" in out:
        out["type"] = "message"
        if isinstance(out.get("content"), str):
            out["content"] = [{"type": "input_text", "text": out["content"]}]
    out.setdefault("id", f"msg_{rid.removeprefix('resp_')[:40]}{index:04d}")
    return out


# ---- the operations ---------------------------------------------------------------------------


def _body(call: Call) -> dict[str, Any]:
    data = load_json(call)
    if not isinstance(data, dict):
        raise ApiError(ErrorKind.INVALID_REQUEST, "The request body must be a JSON object.")
    return data


def previous_in_body(call: Call) -> str | None:
    """The ``previous_response_id`` an operation's body names, if any."""
    prev = _body(call).get(PREVIOUS)
    return prev if isinstance(prev, str) and prev else None


def retrieve(call: Call, opts: RenderOptions, stored: Stored | None = None) -> Answer:
    """``GET /v1/responses/{response_id}``: the response as it was sent."""
    if stored is None:
        return openai_common.render_error(not_found(call.params.get("response_id", "")), opts)
    return Answer(
        200,
        (("content-type", "application/json"), *openai_common.base_headers(opts).items()),
        (Frame(stored.response),),
    )


def delete(call: Call, opts: RenderOptions, stored: Stored | None = None) -> Answer:
    """``DELETE /v1/responses/{response_id}``: the store has let it go already."""
    rid = call.params.get("response_id", "")
    if stored is None:
        return openai_common.render_error(not_found(rid), opts)
    body = {"id": rid, "object": "response.deleted", "deleted": True}
    return json_answer(200, body, openai_common.base_headers(opts))


def input_items(call: Call, opts: RenderOptions, stored: Stored | None = None) -> Answer:
    """``GET /v1/responses/{response_id}/input_items``: what it was asked, newest first unless ``order=asc``,
    a page of ``limit`` (20) after the ``after`` id."""
    if stored is None:
        return openai_common.render_error(not_found(call.params.get("response_id", "")), opts)
    items = stored.input_items()
    if call.query.get("order", "desc") != "asc":
        items.reverse()
    after = call.query.get("after")
    if after:
        ids = [i.get("id") if isinstance(i, dict) else None for i in items]
        items = items[ids.index(after) + 1 :] if after in ids else []
    try:
        limit = max(1, min(100, int(call.query.get("limit", "20"))))
    except ValueError:
        raise ApiError(
            ErrorKind.INVALID_REQUEST, "Invalid value for 'limit': expected an integer.", param="limit"
        ) from None
    page = items[:limit]

    def id_of(item: Any) -> Any:
        return item.get("id") if isinstance(item, dict) else None

    body = {
        "object": "list",
        "data": page,
        "first_id": id_of(page[0]) if page else None,
        "last_id": id_of(page[-1]) if page else None,
        "has_more": len(items) > limit,
    }
    return json_answer(200, body, openai_common.base_headers(opts))


def count_input_tokens(call: Call, opts: RenderOptions, earlier: Sequence[Any] = ()) -> Answer:
    """``POST /v1/responses/input_tokens``: the input tokens a response to the same input would report (with
    the ``earlier`` turns of the response it names as ``previous_response_id``, which the store finds)."""
    data = _body(call)
    # The model is optional here; the count does not depend on it.
    whole = {"model": "gpt-4o", **data} if not data.get("model") else data
    request = openai_responses_request.parse_request(dataclasses.replace(call, body=dumps(whole)))
    if earlier:
        request = continued(request, earlier)
    body = {"object": "response.input_tokens", "input_tokens": prompt_tokens(request)}
    return json_answer(200, body, openai_common.base_headers(opts))


STORED_OPS = (retrieve, delete, input_items)
"""The operations that answer from the store: the road hands them the record it holds."""

ROUTES = [
    Route("POST", "/v1/responses/input_tokens", "responses", CODEC, op=count_input_tokens),
    Route("GET", "/v1/responses/{response_id}", "responses", CODEC, op=retrieve),
    Route("DELETE", "/v1/responses/{response_id}", "responses", CODEC, op=delete),
    Route("GET", "/v1/responses/{response_id}/input_items", "responses", CODEC, op=input_items),
]

__all__ = [
    "PREVIOUS",
    "ROUTES",
    "RUNNING",
    "STORED_OPS",
    "Stored",
    "continued",
    "count_input_tokens",
    "delete",
    "history",
    "input_items",
    "not_found",
    "previous_id",
    "previous_in_body",
    "previous_not_found",
    "retrieve",
    "stored_of",
    "wants_stored",
]
