"""The strategy registry: each strategy declared once, beside its Lua twin, and everything else derived."""

from __future__ import annotations

import random
import typing

import pytest

from llmreplay.control.admin import strategies
from llmreplay.control.live import RateLimitConfig, Strategy
from llmreplay.shaping.ratelimit.base import Params
from llmreplay.shaping.ratelimit.strategies import BUILTIN, DESCRIPTIONS, STRATEGIES, index
from llmreplay.state import redis_scripts


def test_one_name_list() -> None:
    names = [s.name for s in BUILTIN]
    assert list(STRATEGIES) == list(DESCRIPTIONS) == names
    assert [s["name"] for s in strategies()] == names
    # control/live.py spells the names out once more as the config's Literal; it must be the same set.
    assert set(typing.get_args(Strategy)) == set(names)


@pytest.mark.parametrize("strategy", BUILTIN, ids=lambda s: s.name)
def test_each_strategy_has_its_lua_and_real_parameters(strategy) -> None:
    assert strategy.lua in redis_scripts.ADMIT[strategy.name]
    assert "local function acquire()" in strategy.lua
    assert set(strategy.parameters) <= set(RateLimitConfig.model_fields)
    limiter = strategy.build(Params(limit=2, window=1.0, after_n=1, probability=0.5), random.Random(0))
    assert limiter.acquire(0.0).limit >= 0


def test_stateless_strategies_keep_no_state() -> None:
    # Decided in-process by the shared state: two limiters must answer a burst alike, whatever came before.
    for s in BUILTIN:
        if s.stateless:
            a = s.build(Params(limit=3, window=1.0), random.Random(1))
            for _ in range(5):
                a.acquire(0.0)
            b = s.build(Params(limit=3, window=1.0), random.Random(1))
            assert a.acquire(0.0).allowed == b.acquire(0.0).allowed or s.draws, s.name


def test_a_strategy_listed_twice_is_refused() -> None:
    with pytest.raises(ValueError, match="twice"):
        index((*BUILTIN, BUILTIN[0]))
