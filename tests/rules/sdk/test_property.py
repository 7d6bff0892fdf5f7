"""Property: whatever rules document the admin API accepts, no request makes the server answer 5xx on the rules'
account or hang, for any of the four APIs, streamed or not (streams read to their end by the official SDKs).
A 4xx is the SDK's error; a broken stream only where a rule asked for a fault; anything else the SDK reads."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import anthropic
import httpx
import httpx2
import openai
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from llmreplay.server import BackgroundServer
from tests.conftest import settings as server_settings
from tests.rules.sdk.common import CASES, HTTP, ORDER, Ask, status_of
from tests.rules.sdk.drive import ask
from tests.rules.sdk.test_matchers import SUNNY, after_result

pytestmark = pytest.mark.sdk

TIMEOUT = 10.0
HANGS = (openai.APITimeoutError, anthropic.APITimeoutError, httpx.TimeoutException, httpx2.TimeoutException)
BREAKS = ("disconnect", "malformed", "truncate", "stall", "reset", "empty")
"""Outcomes after which an SDK may fail to read what it got."""

words = st.sampled_from(["weather", "Paris", "hello", "order", "{{last_user}}", "{{tool_result}}", "ünï", ""])
texts = st.lists(words, min_size=1, max_size=4).map(" ".join)
tool_names = st.sampled_from(["get_weather", "search_docs", "not_offered"])
outcomes = st.one_of(
    st.just("ok"),
    st.sampled_from(["400", "401", "403", "404", "409", "422", "429"]),
    st.builds("disconnect@{}".format, st.integers(0, 12)),
    st.builds("disconnect@{}%".format, st.integers(0, 100)),
    st.builds("malformed@{}".format, st.integers(0, 8)),
    st.just("truncate"),
    st.builds("stall@{}:{}".format, st.integers(0, 6), st.integers(0, 20)),
    st.builds("slow-first-token:{}".format, st.integers(0, 20)),
    st.builds("slow-headers:{}".format, st.integers(0, 20)),
)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 5) | texts,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["a", "b", "total"]), inner, max_size=3)
    ),
    max_leaves=6,
)
calls = st.builds(
    lambda name, args: {"name": name, **({"arguments": args} if args is not None else {})},
    tool_names,
    st.none() | st.dictionaries(st.sampled_from(["city", "query", "limit"]), json_values, max_size=2),
)


@st.composite
def replies(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["text", "calls", "text+calls", "json", "generate", "refusal", "outcome"]))
    reply: dict[str, Any] = {}
    if "text" in kind:
        reply["text"] = draw(texts)
    if "calls" in kind or (kind == "generate" and draw(st.booleans())):
        reply["tool_calls"] = draw(st.lists(calls, min_size=1, max_size=3))
    if kind == "json":
        reply["json"] = draw(json_values.filter(lambda v: v is not None))
    elif kind == "generate":
        reply["json"] = "generate"
    elif kind == "refusal":
        reply["refusal"] = draw(texts)
    if kind == "outcome" or draw(st.booleans()):
        reply["outcome"] = draw(outcomes)
    if kind != "outcome" and draw(st.booleans()):
        reply["thinking"] = draw(texts)
    if draw(st.booleans()):
        reply["finish"] = draw(st.sampled_from(["stop", "length", "content_filter"]))
    if draw(st.booleans()):
        fields = st.sampled_from(["input_tokens", "output_tokens", "reasoning_tokens"])
        reply["usage"] = draw(st.dictionaries(fields, st.integers(0, 10**6), max_size=3))
    if draw(st.booleans()):
        latency = {"ttft_ms": st.integers(0, 5), "gap_ms": st.integers(0, 2), "chunk_size": st.integers(1, 60)}
        reply["latency"] = {k: draw(v) for k, v in latency.items() if draw(st.booleans())}
    return reply


matches = st.fixed_dictionaries(
    {},
    optional={
        "api": st.sampled_from(["openai-chat", "openai-responses", "anthropic-messages", "gemini"]),
        "model": st.sampled_from(["gpt-*", "claude-sonnet-4-6", "*flash*"]),
        "last_user": words,
        "any_message": st.sampled_from([{"regex": "(?i)paris"}, {"json": {"sky": "sunny"}}, "weather"]),
        "tools": st.lists(tool_names, min_size=1, max_size=2, unique=True),
        "tool_result": st.booleans() | st.builds(lambda n: {"name": n}, tool_names),
        "turn": st.integers(0, 2) | st.just({"min": 1}),
        "body": st.sampled_from([{"temperature": 0.5}, {"model": {"glob": "*"}}, {"stream": True}]),
    },
)


@st.composite
def rules(draw: st.DrawFn) -> dict[str, Any]:
    rule: dict[str, Any] = {"match": draw(matches)}
    if draw(st.booleans()):
        rule["steps"] = draw(st.lists(replies(), min_size=1, max_size=3))
        if draw(st.booleans()):
            rule["then"] = draw(st.sampled_from(["repeat-last", "cycle", "stop"]))
    else:
        rule["reply"] = draw(replies())
    limit = draw(st.sampled_from([None, "times", "once"]))
    if limit == "times":
        rule["times"] = draw(st.integers(1, 3))
    elif limit == "once":
        rule["once"] = True
    return rule


asks = st.sampled_from(
    [
        Ask(user="What's the weather in Paris?", tools=("get_weather", "search_docs")),
        Ask(user="hello"),
        Ask(user="Order, please.", schema=ORDER),
        Ask(user="JSON please", system=f"Reply with JSON matching this JSON Schema: {ORDER}".replace("'", '"')),
        after_result(SUNNY),
    ]
)


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    with BackgroundServer(server_settings()) as s:
        yield s.url


def _breaks(doc: list[dict[str, Any]]) -> bool:
    steps = [s for r in doc for s in (r.get("steps") or [r["reply"]])]
    return any(str(s.get("outcome", "")).startswith(BREAKS) for s in steps)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(doc=st.lists(rules(), min_size=1, max_size=3), a=asks)
def test_no_rules_make_the_server_fail_or_hang(url: str, doc: list[dict[str, Any]], a: Ask) -> None:
    r = HTTP.put(url + "/api/rules", json={"rules": doc})
    assume(r.status_code == 200)  # what the admin API refuses is tests/rules/test_admin.py's
    breaks = _breaks(doc)
    for api, stream in CASES:
        try:
            ask(url, api, stream, a, timeout=TIMEOUT)
        except HANGS as exc:
            raise AssertionError(f"{api} stream={stream} hung: {exc!r}") from exc
        except Exception as exc:
            status = status_of(exc)
            if status is not None and status != 200:  # 200: an error event in a stream
                assert status < 500, f"{api} stream={stream}: {status} {exc}"
            elif not breaks:
                raise AssertionError(f"{api} stream={stream}: the SDK could not read a rule's answer") from exc
