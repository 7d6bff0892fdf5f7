"""Issue 19, cases 2–5 and 14: schema faking is bounded by sizes and a count of work, refused as the client's 400
naming the parameter. Each case is checked by what it costs in the faker's own count (deterministic), not by a
clock; the figures in the comments are today's code's (2-core machine) before the budget."""

import asyncio
import contextlib
import gc
import random
import time

import pytest

from llmreplay.errors import ApiError
from llmreplay.synth.budget import MAX_ITEMS, MAX_STEPS, MAX_STRING, Budget, OverBudget
from llmreplay.synth.faker import fake
from llmreplay.synth.requested import value_for
from llmreplay.synth.scalars import _fit_length


def refused(schema, *, n=1):
    """The 400 that ``value_for`` gives ``schema`` asked ``n`` times in one loop turn, as one request does."""

    async def one_request():
        rng = random.Random(1)
        for _ in range(n):
            value_for(schema, rng, "the parameters of tool 'f'", "tools")

    with pytest.raises(ApiError) as caught:
        asyncio.run(one_request())
    assert caught.value.param == "tools"
    return str(caught.value)


def counting(budget: Budget) -> list[int]:
    """Counts the calls to ``budget.spend``, so a test sees the work done without a clock."""
    calls = [0]
    spend = budget.spend

    def spy(*args, **kwargs):
        calls[0] += 1
        return spend(*args, **kwargs)

    budget.spend = spy
    return calls


@pytest.mark.parametrize("size", [10**6, 4 * 10**6, 10**7, 1e30])
def test_case3_a_huge_min_length_is_refused_before_it_is_built(size):
    # Was 3.5 s for 1e6, 58 s for 4e6, over 15 minutes for 1e7.
    assert f"minLength {size} is above the cap of {MAX_STRING}" in refused({"type": "string", "minLength": size})


def test_case3_fit_length_is_linear():
    # Joined once: the string is built in one pass, so the cap's length costs what a short one does per character.
    text = _fit_length("start", MAX_STRING, None, random.Random(0))
    assert len(text) >= MAX_STRING and text.startswith("start ")
    assert len(_fit_length("start", 50, 60, random.Random(0))) in range(50, 61)


@pytest.mark.parametrize("count", [10**5, 1e30, 3000])
def test_case4_a_huge_min_items_is_refused_at_once(count):
    # Was 7.7 s for 1e5; 1e30 hung for good with memory climbing.
    message = refused({"type": "array", "minItems": count})
    assert f"minItems {count} is above the cap of {MAX_ITEMS}" in message


def test_case4_min_properties_has_the_same_cap():
    assert "minProperties" in refused({"type": "object", "minProperties": 10**9})


def test_case4_n_choices_share_one_request_budget():
    # n: 128 × minItems 3000 took 16 s; within the item cap, 128 × 500 items is over the request's count of work.
    schema = {"type": "array", "items": {"type": "integer"}, "minItems": 500}
    assert f"more than {MAX_STEPS} steps" in refused(schema, n=128)


def test_the_budget_of_a_loop_turn_is_dropped_at_the_next():
    # The unseeded generator is shared by all requests: one request's work must not count against the next.
    schema = {"type": "array", "items": {"type": "integer"}, "minItems": 400}

    async def two_requests():
        rng = random.Random(1)
        for _ in range(2):
            for _ in range(3):  # 3 × ~800 steps fit one budget; 6 would not
                value_for(schema, rng, "x", "tools")
            await asyncio.sleep(0)

    asyncio.run(two_requests())


def _fan_out_defs(levels: int, width: int) -> dict:
    defs = {}
    for level in range(levels):
        child = {"$ref": f"#/$defs/l{level + 1}"} if level < levels - 1 else {"type": "string"}
        props = {f"p{i}": child for i in range(width)}
        defs[f"l{level}"] = {"type": "object", "properties": props, "required": list(props)}
    return {"$defs": defs, "$ref": "#/$defs/l0"}


def test_case5_defs_fan_out_is_refused_within_the_count():
    # 5 levels × 10 required $ref properties (a 2.4 KB request): 27 s and a 1.3 MB reply before.
    budget = Budget()
    calls = counting(budget)
    with pytest.raises(OverBudget):
        fake(_fan_out_defs(5, 10), random.Random(1), budget=budget)
    assert calls[0] <= MAX_STEPS + 1
    assert "steps of work" in refused(_fan_out_defs(5, 10))


def test_case5_any_of_fan_out_is_bounded():
    # anyOf 6 × 10 through $defs: 18.5 s before. Now a value or the 400, within the count of work.
    defs = {"l6": {"type": "string", "pattern": "^x$"}}
    for level in range(6):
        defs[f"l{level}"] = {
            "anyOf": [
                {"type": "object", "properties": {f"k{i}": {"$ref": f"#/$defs/l{level + 1}"}}, "required": [f"k{i}"]}
                for i in range(10)
            ]
        }
    budget = Budget()
    calls = counting(budget)
    with contextlib.suppress(OverBudget):
        fake({"$defs": defs, "$ref": "#/$defs/l0"}, random.Random(1), budget=budget)
    assert calls[0] <= MAX_STEPS + 1


@pytest.mark.parametrize("key", ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf"])
@pytest.mark.parametrize("bound", [float("inf"), float("-inf"), float("nan")])
def test_case14_non_finite_bounds_are_the_clients_400(key, bound):
    # "minimum": -Infinity was a 500 (OverflowError); "maximum": -Infinity a 200 carrying NaN.
    for kind in ("number", "integer"):
        schema = {"type": "object", "properties": {"a": {"type": kind, key: bound}}, "required": ["a"]}
        assert str(bound) in refused(schema)


def test_case14_the_faker_alone_refuses_non_finite_bounds():
    from llmreplay.synth.faker import UnsatisfiableSchema

    with pytest.raises(UnsatisfiableSchema, match="not a finite number"):
        fake({"type": "number", "maximum": float("-inf")}, random.Random(0))


@pytest.mark.parametrize("pattern", ["^a{1000}$", "^a{10000}$"])
def test_case2_long_fixed_repeats_are_generated(pattern):
    # 5.7 s and 45 s (then a wrong 400) before.
    value = fake({"type": "string", "pattern": pattern}, random.Random(0))
    assert value == "a" * int(pattern[3:-2])


def test_case2_a_pattern_longer_than_the_cap_is_refused_before_it_is_built():
    # ^((a{300}){300})$ ran over 5 minutes.
    assert "longer than 65536 characters" in refused({"type": "string", "pattern": "^((a{300}){300})$"})


def test_the_wall_clock_deadline_is_a_backstop():
    now = [0.0]
    budget = Budget(clock=lambda: now[0], seconds=1.0)
    budget.spend()
    now[0] = 2.0
    with pytest.raises(OverBudget, match="longer than"):
        budget.spend()


def test_default_deadline_is_far_beyond_the_counts():
    # The counts, not the clock, decide on any machine: a fresh budget does not expire while a test runs it.
    assert Budget(clock=time.monotonic)._deadline > time.monotonic()


def test_a_full_collection_of_the_garbage_collector_is_not_counted_against_the_deadline():
    # A gen-2 pause of over a second in a test process holding thousands of tests' objects once failed an SDK test.
    was = gc.isenabled()
    gc.disable()  # no collection of its own between the steps below
    try:
        late = Budget(seconds=0.001)
        time.sleep(0.01)
        with pytest.raises(OverBudget, match="longer than"):
            late.spend()
        paused = Budget(seconds=0.001)
        gc.collect()
        time.sleep(0.01)
        paused.spend()  # the deadline is set again from now, once for that collection
        time.sleep(0.01)
        with pytest.raises(OverBudget, match="longer than"):
            paused.spend()
    finally:
        if was:
            gc.enable()


def test_time_in_an_uncounted_stretch_is_not_charged_to_the_deadline():
    now = [0.0]
    budget = Budget(clock=lambda: now[0], seconds=1.0)
    with budget.uncounted():
        now[0] = 5.0
    budget.spend()  # 5 s passed, all of it uncounted
    now[0] = 6.5
    with pytest.raises(OverBudget, match="longer than"):
        budget.spend()


def test_the_meta_schema_check_is_not_charged_to_the_deadline(monkeypatch):
    # A 44 KB schema's check took over the whole second on a slow CI machine, and its tool call got the 400.
    from llmreplay.synth import requested

    checked = requested._checked

    def slow_check(schema):
        time.sleep(0.05)
        return checked(schema)

    monkeypatch.setattr(requested, "Budget", lambda: Budget(seconds=0.01))
    monkeypatch.setattr(requested, "_checked", slow_check)
    schema = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}
    assert "city" in value_for(schema, random.Random(1), "the parameters of tool 'f'", "tools")
