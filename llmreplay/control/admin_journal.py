"""The admin API's journal routes: what the apps sent, and what answered, under ``/api/requests``.

With ``--state redis://…`` every process keeps its own journal; these routes show them as one
(:mod:`llmreplay.journal.merge`) and a clear applies everywhere.
"""

from __future__ import annotations

import datetime
from typing import TypeVar

import pydantic
from aiohttp import web

from llmreplay.control import adminio
from llmreplay.journal import Filter, merge


def unix_time(text: str) -> float:
    """Unix seconds from ``text``: a number of seconds, or an ISO 8601 time (UTC unless it says otherwise)."""
    try:
        return float(text)
    except ValueError:
        pass
    try:
        moment = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError("expected unix seconds (1735689600.5) or an ISO 8601 time (2025-01-01T00:00:00Z)") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()


class RequestsQuery(pydantic.BaseModel):
    """The filters of ``GET /api/requests``; every one given must hold."""

    model_config = pydantic.ConfigDict(extra="forbid")
    test_id: str | None = pydantic.Field(None, description="Only this test's requests (x-llmreplay-test-id).")
    endpoint: str | None = pydantic.Field(None, description="Only this endpoint's (chat-completions, messages …).")
    model: str | None = pydantic.Field(None, description="Only requests for this model.")
    source: str | None = pydantic.Field(None, description="Only those this source answered: rule, cassette …")
    since: str | None = pydantic.Field(
        None, description="Only requests that arrived at or after this time: unix seconds or ISO 8601."
    )
    limit: int | None = pydantic.Field(None, ge=0, description="Only the newest N (still listed oldest first).")

    @pydantic.field_validator("since")
    @classmethod
    def _since(cls, v: str | None) -> str | None:
        if v is not None:
            unix_time(v)
        return v

    def filter(self) -> Filter:
        since = None if self.since is None else unix_time(self.since)
        return Filter(self.test_id, self.endpoint, self.model, self.source, since, self.limit)


class ClearQuery(pydantic.BaseModel):
    """The filter of ``DELETE /api/requests``."""

    model_config = pydantic.ConfigDict(extra="forbid")
    test_id: str | None = pydantic.Field(None, description="Clear only this test's requests (else every one).")


Q = TypeVar("Q", bound=pydantic.BaseModel)


def _query(request: web.Request, model: type[Q]) -> Q | web.Response:
    """The query string as ``model``, or the 422 naming each bad parameter (loc ``["query", name]``)."""
    try:
        return model.model_validate(dict(request.query))
    except pydantic.ValidationError as exc:
        errors = adminio.field_errors(exc)
        for e in errors:
            e["loc"] = ["query", *e["loc"]]
        return adminio.unprocessable(errors)


async def list_requests(request: web.Request) -> web.Response:
    q = _query(request, RequestsQuery)
    if isinstance(q, web.Response):
        return q
    rt = adminio.runtime(request)
    shared = await rt.state.shared_journal()
    return adminio.json_response(merge.find(rt.journal, q.filter(), shared))


async def get_request(request: web.Request) -> web.Response:
    rt = adminio.runtime(request)
    id = request.match_info["id"]
    # The shared view is read even for an entry of this process's: another process may have cleared it.
    found = merge.get(rt.journal, id, await rt.state.shared_journal())
    if found is None:
        return adminio.json_response({"message": f"no request {id!r} in the journal"}, 404)
    return adminio.json_response(found)


async def clear_requests(request: web.Request) -> web.Response:
    q = _query(request, ClearQuery)
    if isinstance(q, web.Response):
        return q
    rt = adminio.runtime(request)
    shared = await rt.state.shared_journal()
    # Marked everywhere first: when that cannot be done (503), nothing was cleared here either.
    await rt.state.clear_journal(q.test_id)
    removed = merge.clear(rt.journal, q.test_id, shared)
    return adminio.json_response({"removed": removed, "test_id": q.test_id})


ROUTES: adminio.Routes = [
    ("GET", "/api/requests", list_requests, "The request journal: what was sent and what answered, oldest first."),
    ("GET", "/api/requests/{id}", get_request, "One journal entry, by the x-llmreplay-request-id of its answer."),
    ("DELETE", "/api/requests", clear_requests, "Clear the journal, or one test's part of it."),
]
BODIES: adminio.Bodies = {}
QUERIES: adminio.Queries = {
    ("GET", "/api/requests"): RequestsQuery,
    ("DELETE", "/api/requests"): ClearQuery,
}
