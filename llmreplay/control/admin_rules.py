"""The admin API's rules routes, under ``/api/rules``: list, replace, add, clear, and back to the start.

A body is validated whole (every rule, every field) before anything changes: a bad one is 422 with one field
error per problem, and the rules in force stay as they were. A test id (``?test_id=`` or the body's
``test_id``) scopes a change to that test's rules. With ``--state redis://…`` every change is shared with the
other processes (:meth:`State.share_rules`); the counts of matches stay each process's own.
"""

from __future__ import annotations

import pydantic
from aiohttp import web

from llmreplay.control import adminio
from llmreplay.rules import Rule, RulesError, parse_rules
from llmreplay.rules.spec import RulesDoc


class RulesQuery(pydantic.BaseModel):
    """The query of every ``/api/rules`` route."""

    model_config = pydantic.ConfigDict(extra="forbid")
    test_id: str | None = pydantic.Field(
        None, min_length=1, description="The test whose rules to list or change (x-llmreplay-test-id); else global."
    )


def _query(request: web.Request) -> RulesQuery | web.Response:
    try:
        return RulesQuery.model_validate(dict(request.query))
    except pydantic.ValidationError as exc:
        return adminio.unprocessable([{**e, "loc": ["query", *e["loc"]]} for e in adminio.field_errors(exc)])


async def _rules_of_body(request: web.Request, query: RulesQuery) -> tuple[list[Rule], str | None] | web.Response:
    """The body's rules, compiled, and the test id they are for; or the 422 that lists every problem."""
    data = await adminio.json_body(request)
    if isinstance(data, web.Response):
        return data
    if isinstance(data, list):
        data = {"rules": data}
    if not isinstance(data, dict):
        problem = {"loc": ["body"], "msg": "must be a JSON object or a list of rules", "type": "dict_type"}
        return adminio.unprocessable([problem])
    test_id = data.get("test_id", query.test_id)
    if query.test_id is not None and test_id != query.test_id:
        msg = f"the body's test_id {test_id!r} differs from the query's {query.test_id!r}"
        return adminio.unprocessable([{"loc": ["body", "test_id"], "msg": msg, "type": "value_error"}])
    rt = adminio.runtime(request)
    try:
        rules = parse_rules(data, "body", rt.rules.cassettes_dir)
    except RulesError as exc:
        return adminio.unprocessable([{**p.as_json(), "loc": ["body", *p.loc]} for p in exc.problems])
    return rules, test_id


async def _shared(request: web.Request, test_id: str | None, cleared_all: bool = False) -> None:
    rt = adminio.runtime(request)
    docs = None if cleared_all else [r.doc() for r in rt.rules.rules(test_id)]
    await rt.state.share_rules(test_id, docs)


def _listing(request: web.Request, test_id: str | None) -> web.Response:
    return adminio.json_response({"test_id": test_id, "rules": adminio.runtime(request).rules.listing(test_id)})


async def get_rules(request: web.Request) -> web.Response:
    query = _query(request)
    if isinstance(query, web.Response):
        return query
    return _listing(request, query.test_id)


async def _change(request: web.Request, add: bool) -> web.Response:
    query = _query(request)
    if isinstance(query, web.Response):
        return query
    found = await _rules_of_body(request, query)
    if isinstance(found, web.Response):
        return found
    rules, test_id = found
    book = adminio.runtime(request).rules
    (book.add if add else book.replace)(rules, test_id)
    await _shared(request, test_id)
    return _listing(request, test_id)


async def put_rules(request: web.Request) -> web.Response:
    return await _change(request, add=False)


async def post_rules(request: web.Request) -> web.Response:
    return await _change(request, add=True)


async def delete_rules(request: web.Request) -> web.Response:
    query = _query(request)
    if isinstance(query, web.Response):
        return query
    adminio.runtime(request).rules.clear(query.test_id)
    await _shared(request, query.test_id, cleared_all=query.test_id is None)
    return adminio.json_response({"cleared": query.test_id or "all"})


async def reset_rules(request: web.Request) -> web.Response:
    query = _query(request)
    if isinstance(query, web.Response):
        return query
    adminio.runtime(request).rules.reset(query.test_id)
    return adminio.json_response({"reset": query.test_id or "all"})


ROUTES: adminio.Routes = [
    ("GET", "/api/rules", get_rules, "Rules in force, in the order they are asked, with their match counts."),
    ("PUT", "/api/rules", put_rules, "Replace the rules (global, or a test's), validated whole."),
    ("POST", "/api/rules", post_rules, "Add rules, asked before those already there."),
    ("DELETE", "/api/rules", delete_rules, "Remove every rule, or a test's."),
    ("POST", "/api/rules/reset", reset_rules, "Counts and sequences back to the start (every test's, or one's)."),
]
BODIES: adminio.Bodies = {
    ("PUT", "/api/rules"): RulesDoc,
    ("POST", "/api/rules"): RulesDoc,
}
QUERIES: dict[tuple[str, str], type[pydantic.BaseModel]] = {(method, path): RulesQuery for method, path, _, _ in ROUTES}
"""The query model of each route, for the OpenAPI document."""
