"""Issue 19, cases 4 and 5: a schema whose smallest valid value is over the request's budget is refused before the
faker starts (``synth/least_work.py``), instead of after spending the whole budget (80-145 ms on a busy machine).
Checked by the faker's own count of work, not by a clock; and the reckoning is a lower bound, so no schema of the
corpus that fits is refused for it."""

from __future__ import annotations

import asyncio
import json
import random
import sys
import threading
from collections.abc import Iterator
from typing import Any

import openai
import pytest

from llmreplay.errors import ApiError
from llmreplay.synth import requested
from llmreplay.synth.budget import MAX_STEPS, Budget, OverBudget
from llmreplay.synth.faker import fake
from llmreplay.synth.least_work import least_steps
from tests.synth.schema_corpus import STANDARD
from tests.synth.test_budget import _fan_out_defs


@pytest.fixture
def budgets(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[Budget]]:
    """Every request's budget, as ``value_for`` makes it."""
    made: list[Budget] = []
    make = requested._budget

    def spy(rng: random.Random) -> Budget:
        budget = make(rng)
        if budget not in made:
            made.append(budget)
        return budget

    monkeypatch.setattr(requested, "_budget", spy)
    yield made


def ask(schema: dict[str, Any], n: int = 1) -> ApiError:
    async def one_request() -> None:
        rng = random.Random(1)
        for _ in range(n):
            requested.value_for(schema, rng, "the parameters of tool 'f'", "tools")

    with pytest.raises(ApiError) as caught:
        asyncio.run(one_request())
    assert caught.value.param == "tools"
    return caught.value


def test_case5_a_defs_fan_out_is_refused_before_any_work(budgets: list[Budget]) -> None:
    # 5 levels × 10 required $ref properties: every value holds 11,111 values. The whole budget was spent first.
    assert "more than 3000 steps of work" in str(ask(_fan_out_defs(5, 10)))
    assert budgets[0].steps == MAX_STEPS


def test_case4_n_choices_stop_when_the_next_cannot_fit(budgets: list[Budget]) -> None:
    # n: 128 × minItems 500: each value costs ~1,000 steps. The third choice was begun and run out mid-way; now it
    # is refused before it starts, so at most two values' work is done.
    schema = {"type": "array", "items": {"type": "integer"}, "minItems": 500}
    ask(schema, n=128)
    assert MAX_STEPS - budgets[0].steps <= 2 * 1002


def test_the_reckoning_is_a_lower_bound_on_the_corpus() -> None:
    # A schema that fits is never refused for its reckoning: it is never more than the work a value took.
    for schema in STANDARD:
        least = least_steps(schema, MAX_STEPS)
        for seed in range(20):
            budget = Budget()
            try:
                fake(schema, random.Random(seed), budget=budget)
            except (OverBudget, ValueError):
                continue
            assert least <= MAX_STEPS - budget.steps, (schema, seed)


@pytest.mark.parametrize(
    "schema",
    [
        {"$ref": "#"},
        {"type": "object", "properties": {"a": {"$ref": "#"}}, "required": ["a"]},
        {"type": "array", "items": {"$ref": "#"}, "minItems": 2},
        {"anyOf": "nonsense", "required": [1, None], "minItems": "x", "prefixItems": {}, "items": 5},
        {"$ref": "https://elsewhere.example/schema"},
        {"type": ["OBJECT", 3], "minProperties": float("nan")},
    ],
)
def test_the_reckoning_ends_on_recursion_and_odd_values(schema: dict[str, Any]) -> None:
    assert 1 <= least_steps(schema, MAX_STEPS) <= MAX_STEPS + 1


def test_the_reckoning_of_a_deep_fan_out_is_quick() -> None:
    # Reckoned once per distinct schema: 12 levels × 10 required refs (10^12 values) is one reference a level and
    # the last level's ten leaves to read.
    calls = [0]
    profile = sys.getprofile()

    def count(frame: Any, event: str, arg: Any) -> None:
        if event == "call" and frame.f_code.co_name == "_least":
            calls[0] += 1

    sys.setprofile(count)
    try:
        # As a request brings it: each {"$ref": ...} its own object.
        assert least_steps(json.loads(json.dumps(_fan_out_defs(12, 10))), MAX_STEPS) == MAX_STEPS + 1
    finally:
        sys.setprofile(profile)
    assert calls[0] <= 12 + 10 + 1


@pytest.mark.sdk
def test_case5_through_the_sdk_is_the_400_naming_tools(make_server: Any) -> None:
    srv = make_server()
    client = openai.OpenAI(base_url=f"{srv.url}/v1", api_key="sk-test", max_retries=0)
    with pytest.raises(openai.BadRequestError) as caught:
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "go"}],
            tools=[{"type": "function", "function": {"name": "f", "parameters": _fan_out_defs(5, 10)}}],
            tool_choice="required",
        )
    assert caught.value.body["param"] == "tools"
    assert "steps of work" in caught.value.body["message"]


def test_a_request_answered_off_the_loop_has_one_budget_too() -> None:
    # A big body's reply is made on a worker thread (llmreplay/offload.py), where no loop turn ends a request:
    # its n choices still share one budget.
    from concurrent.futures import ThreadPoolExecutor

    schema = {"type": "array", "items": {"type": "integer"}, "minItems": 500}

    def one_request() -> None:
        rng = random.Random(1)
        for _ in range(128):
            requested.value_for(schema, rng, "the parameters of tool 'f'", "tools")

    with ThreadPoolExecutor(1) as worker, pytest.raises(ApiError, match="steps of work"):
        worker.submit(requested.one_budget, one_request).result()


def test_a_big_schema_is_checked_off_the_loop(make_server: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    # Checking a client's schema against the meta-schema is work no budget counts: ~4 ms of CPU a KB, 167 ms for
    # this 44 KB one, all of it on the loop before. A request with schemas in a body of 8 KiB or more is answered
    # on the worker thread (llmreplay/offload.py); a small one stays on the loop.
    srv = make_server()
    requested._CHECKED.clear()  # a schema checked before is not reckoned again: this one must be
    threads: list[str] = []
    reckon = requested.least_steps

    def spy(schema: Any, cap: int) -> int:
        threads.append(threading.current_thread().name)
        return reckon(schema, cap)

    monkeypatch.setattr(requested, "least_steps", spy)
    nested = {f"q{j}": {"type": "integer", "minimum": 0} for j in range(20)}
    big = {"type": "object", "properties": {f"p{i}": {"type": "object", "properties": nested} for i in range(50)}}
    small = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    client = openai.OpenAI(base_url=f"{srv.url}/v1", api_key="sk-test", max_retries=0)
    for schema in (big, small):
        client.chat.completions.create(
            model="gpt-4o-mini",
            messages=[{"role": "user", "content": "go"}],
            tools=[{"type": "function", "function": {"name": "f", "parameters": schema}}],
            tool_choice="required",
        )
    assert len(json.dumps(big)) > 40_000
    assert threads[0].startswith("llmreplay-body") and threads[1] == "llmreplay-server", threads
