"""Every matcher of a rule, through each official SDK, streamed and not: a request it holds for is the rule's
(``x-llmreplay-source: rule:NAME#STEP``), one it does not hold for falls through to the synthetic source."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.rules.sdk.common import API_NAMES, APIS, MODELS, PATHS, TEMPERATURE, USER_TEXT, Ask, Turn, journal, put_rules
from tests.rules.sdk.drive import ask

pytestmark = pytest.mark.sdk

Check = tuple[dict[str, Any], Ask, bool]
"""A rule's ``match``, a request, and whether the rule answers it."""
ENDPOINTS = {"chat": "chat-completions", "responses": "responses", "messages": "messages", "gemini": "gemini"}
PROVIDERS = {"chat": "openai", "responses": "openai", "messages": "anthropic", "gemini": "gemini"}
ARGS = {"city": "Paris", "unit": "celsius"}
SUNNY = {"sky": "sunny", "temp": 21}


def after_result(content: dict[str, Any], name: str = "get_weather", then: list[Turn] | None = None) -> Ask:
    """A conversation whose latest turn is ``name``'s result (or, with ``then``, one that went on after it)."""
    history: list[Turn] = [
        ("user", "Weather in Paris?"),
        ("call", name, ARGS, "call_1"),
        ("result", name, "call_1", content),
    ]
    return Ask(user=None, tools=("get_weather", "search_docs"), history=history + (then or []))


def with_turns(n: int) -> Ask:
    """A conversation with ``n`` assistant turns before its last user message."""
    history: list[Turn] = []
    for i in range(n):
        history += [("user", f"question {i}"), ("assistant", f"answer {i}")]
    return Ask(user="and now?", history=history)


def _api(api: str) -> list[Check]:
    others = [API_NAMES[a] for a in APIS if a != api]
    return [({"api": API_NAMES[api]}, Ask(), True), ({"api": others}, Ask(), False)]


def _provider(api: str) -> list[Check]:
    others = sorted({p for p in PROVIDERS.values() if p != PROVIDERS[api]})
    return [({"provider": [PROVIDERS[api]]}, Ask(), True), ({"provider": others}, Ask(), False)]


def _endpoint(api: str) -> list[Check]:
    return [({"endpoint": ENDPOINTS[api]}, Ask(), True), ({"endpoint": ["embeddings", "completions"]}, Ask(), False)]


def _path_glob(api: str) -> list[Check]:
    return [({"path": PATHS[api]}, Ask(), True), ({"path": "/v1/embeddings"}, Ask(), False)]


def _model_exact(api: str) -> list[Check]:
    return [
        ({"model": MODELS[api]}, Ask(), True),
        ({"model": "acme-large-2"}, Ask(model="acme-large-2"), True),
        ({"model": "acme-large"}, Ask(model="acme-large-2"), False),  # no wildcard: the whole name
        ({"model": {"equals": "acme-large-2"}}, Ask(model="acme-large-20"), False),
    ]


def _model_glob(api: str) -> list[Check]:
    return [
        ({"model": "acme-*-2"}, Ask(model="acme-large-2"), True),
        ({"model": {"glob": "acme-?mall-[0-9]"}}, Ask(model="acme-small-7"), True),
        ({"model": "acme-*-2"}, Ask(model="acme-large-3"), False),
    ]


def _model_regex(api: str) -> list[Check]:
    m = {"model": {"regex": r"^acme-(large|small)-\d$"}}
    return [(m, Ask(model="acme-small-7"), True), (m, Ask(model="acme-medium-7"), False)]


def _last_user(api: str) -> list[Check]:
    earlier = Ask(user="Paris, please.", history=[("user", "What's the weather?"), ("assistant", "Where?")])
    return [
        ({"last_user": "weather"}, Ask(user="What's the weather in Paris?"), True),
        ({"last_user": "weather"}, earlier, False),  # said before, not in the latest user message
        ({"last_user": {"contains": "PARIS", "ignore_case": True}}, earlier, True),
        ({"last_user": {"regex": r"^What.*Paris\?$"}}, Ask(user="What about Paris?"), True),
        ({"last_user": {"regex": r"^What.*Paris\?$"}}, Ask(user="So, what about Paris?"), False),
        ({"last_user": {"equals": "hi"}}, Ask(user="hi"), True),
        ({"last_user": {"equals": "hi"}}, Ask(user="hi there"), False),
    ]


def _last_user_json(api: str) -> list[Check]:
    m = {"last_user": {"json": {"order.total": 125, "order.id": {"glob": "A-*"}, "order.lines.0.sku": "X1"}}}
    order = {"order": {"total": 125, "id": "A-17", "lines": [{"sku": "X1"}]}}
    return [
        (m, Ask(user=json.dumps(order)), True),
        (m, Ask(user=json.dumps({"order": {**order["order"], "total": 99}})), False),
        (m, Ask(user="not JSON at all"), False),
    ]


def _system(api: str) -> list[Check]:
    return [
        ({"system": "pirate"}, Ask(system="You are a pirate."), True),
        ({"system": {"equals": "You are a pirate."}}, Ask(system="You are a pirate."), True),
        ({"system": {"regex": "^You are a (pirate|sailor)"}}, Ask(system="You are a chef."), False),
        ({"system": "pirate"}, Ask(user="Talk like a pirate."), False),  # said by the user, not the system
    ]


def _any_message(api: str) -> list[Check]:
    trip = Ask(user="Yes.", history=[("user", "Plan my trip"), ("assistant", "Shall I book the Eiffel Tower?")])
    cart = Ask(
        user="Checkout.", history=[("user", json.dumps({"cart": {"items": [{"sku": "X1"}]}})), ("assistant", "OK")]
    )
    return [
        ({"any_message": "Eiffel"}, trip, True),
        ({"any_message": "Louvre"}, trip, False),
        ({"any_message": "pirate"}, Ask(system="You are a pirate."), True),  # the system prompt is one
        ({"any_message": {"regex": r"(?i)eiffel\s+tower"}}, trip, True),
        ({"any_message": {"json": {"cart.items.0.sku": "X1"}}}, cart, True),
        ({"any_message": {"json": {"cart.items.0.sku": "X2"}}}, cart, False),
    ]


def _tools(api: str) -> list[Check]:
    both = Ask(tools=("get_weather", "search_docs"))
    return [
        ({"tools": "get_weather"}, both, True),
        ({"tools": ["get_weather", "search_docs"]}, both, True),
        ({"tools": ["get_weather", "search_docs"]}, Ask(tools=("search_docs",)), False),
        ({"tools": "get_weather"}, Ask(), False),
    ]


def _tool_result_bool(api: str) -> list[Check]:
    went_on = after_result(SUNNY, then=[("assistant", "It is sunny."), ("user", "Thanks!")])
    return [
        ({"tool_result": True}, after_result(SUNNY), True),
        ({"tool_result": True}, Ask(tools=("get_weather",)), False),
        ({"tool_result": True}, went_on, False),  # a result of an earlier turn is not this turn's
        ({"tool_result": False}, went_on, True),
        ({"tool_result": False}, after_result(SUNNY), False),
    ]


def _tool_result_name(api: str) -> list[Check]:
    return [
        ({"tool_result": {"name": "get_weather"}}, after_result(SUNNY), True),
        ({"tool_result": {"name": "get_weather"}}, after_result({"hits": 3}, name="search_docs"), False),
    ]


def _tool_result_content(api: str) -> list[Check]:
    # A result's content is what the tool returned, for every API (Gemini's functionResponse.response).
    temp = "temp"
    return [
        ({"tool_result": {"name": "get_weather", "contains": "sunny"}}, after_result(SUNNY), True),
        ({"tool_result": {"name": "get_weather", "contains": "sunny"}}, after_result({"sky": "rainy"}), False),
        ({"tool_result": {"regex": r"\"temp\":\s*2\d"}}, after_result(SUNNY), True),
        ({"tool_result": {"json": {temp: 21}}}, after_result(SUNNY), True),
        ({"tool_result": {"json": {temp: {"regex": "^3"}}}}, after_result(SUNNY), False),
    ]


def _turn_int(api: str) -> list[Check]:
    return [
        ({"turn": 0}, Ask(), True),
        ({"turn": 0}, with_turns(1), False),
        ({"turn": 2}, with_turns(2), True),
        ({"turn": 1}, after_result(SUNNY), True),  # the assistant's tool call is a turn
    ]


def _turn_range(api: str) -> list[Check]:
    m = {"turn": {"min": 1, "max": 2}}
    return [
        (m, with_turns(1), True),
        (m, with_turns(2), True),
        (m, with_turns(0), False),
        (m, with_turns(3), False),
        ({"turn": {"min": 3}}, with_turns(3), True),
    ]


def _headers(api: str) -> list[Check]:
    acme = Ask(headers={"X-Tenant": "acme"})
    test = Ask(headers={"x-llmreplay-test-id": "suite-7"})
    return [
        ({"headers": {"x-tenant": "acme"}}, acme, True),
        ({"headers": {"X-TENANT": "acme"}}, acme, True),  # names in any case
        ({"headers": {"x-tenant": "acme"}}, Ask(headers={"X-Tenant": "acme-2"}), False),
        ({"headers": {"x-tenant": "acme"}}, Ask(), False),
        ({"headers": {"x-llmreplay-test-id": {"glob": "suite-*"}}}, test, True),
        ({"headers": {"x-llmreplay-test-id": {"regex": "^suite-[0-6]$"}}}, test, False),
    ]


def _body(api: str) -> list[Check]:
    t, u = TEMPERATURE[api], USER_TEXT[api]
    return [
        ({"body": {t: 0.25}}, Ask(temperature=0.25), True),
        ({"body": {t: 0.25}}, Ask(temperature=0.5), False),
        ({"body": {t: 0.25}}, Ask(), False),  # not sent
        ({"body": {u: {"regex": r"^order #\d+$"}}}, Ask(user="order #42"), True),
        ({"body": {u: {"regex": r"^order #\d+$"}}}, Ask(user="order #x"), False),
        ({"body": {u: "order #42", t: {"glob": "0.2*"}}}, Ask(user="order #42", temperature=0.25), True),  # as JSON
        ({"body": {u: "order #42", t: {"glob": "0.3*"}}}, Ask(user="order #42", temperature=0.25), False),
    ]


MATCHERS: dict[str, Callable[[str], list[Check]]] = {
    "api": _api,
    "provider": _provider,
    "endpoint": _endpoint,
    "path": _path_glob,
    "model-exact": _model_exact,
    "model-glob": _model_glob,
    "model-regex": _model_regex,
    "last_user": _last_user,
    "last_user-json": _last_user_json,
    "system": _system,
    "any_message": _any_message,
    "tools": _tools,
    "tool_result-bool": _tool_result_bool,
    "tool_result-name": _tool_result_name,
    "tool_result-content": _tool_result_content,
    "turn-int": _turn_int,
    "turn-range": _turn_range,
    "headers": _headers,
    "body": _body,
}


def _answered(url: str, api: str, stream: bool, match: dict[str, Any], a: Ask) -> bool:
    put_rules(url, [{"name": "m", "match": match, "reply": {"text": "Matched."}}])
    got = ask(url, api, stream, a)
    if got.source == "rule:m#0":
        assert (got.text, got.calls) == ("Matched.", [])
        return True
    assert got.source == "synthetic", got.source
    return False


@pytest.mark.parametrize("matcher", MATCHERS)
def test_a_matcher_holds_or_falls_through(url: str, case: tuple[str, bool], matcher: str) -> None:
    api, stream = case
    checks = MATCHERS[matcher](api)
    got = [_answered(url, api, stream, match, a) for match, a, _ in checks]
    assert got == [expected for _, _, expected in checks], [m for m, _, _ in checks]


def test_every_matcher_together(url: str, case: tuple[str, bool]) -> None:
    """All matchers in one rule: each must hold, so changing any one request field turns it away."""
    api, stream = case
    a = after_result(SUNNY)
    a.system, a.model, a.temperature, a.headers = "You are terse.", "acme-large-2", 0.25, {"x-tenant": "acme"}
    temp = "temp"
    match = {
        "api": API_NAMES[api],
        "provider": PROVIDERS[api],
        "endpoint": ENDPOINTS[api],
        "path": PATHS[api].replace("models/*", "models/acme-large-2"),
        "model": {"regex": "^acme-large-[0-9]$"},
        "last_user": "Paris",
        "system": {"equals": "You are terse."},
        "any_message": "weather",
        "tools": ["get_weather", "search_docs"],
        "tool_result": {"name": "get_weather", "json": {temp: 21}},
        "turn": {"min": 1, "max": 1},
        "headers": {"x-tenant": "acme"},
        "body": {TEMPERATURE[api]: 0.25},
    }
    assert _answered(url, api, stream, match, a)
    a.headers = {"x-tenant": "other"}
    assert not _answered(url, api, stream, match, a)


def test_the_journal_says_what_answered(url: str, case: tuple[str, bool]) -> None:
    """What Gemini's SDK cannot show as a header every SDK's request has in the journal: its source and rule."""
    api, stream = case
    put_rules(url, [{"name": "m", "match": {"last_user": "hello"}, "reply": {"text": "Matched."}}])
    ask(url, api, stream, Ask(user="hello", headers={"x-llmreplay-test-id": "j"}))
    ask(url, api, stream, Ask(user="bye", headers={"x-llmreplay-test-id": "j"}))
    entries = journal(url, test_id="j")
    assert [(e["source"], e["answered_by"]) for e in entries] == [
        ("rule", {"rule": "m", "step": 0}),
        ("synthetic", None),
    ]
