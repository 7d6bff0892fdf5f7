"""Each strategy's admit/deny sequence at its edges, on an injected clock (no sleeping)."""

from __future__ import annotations

import random

import pytest

from llmreplay.shaping.ratelimit.buckets import LeakyBucket, TokenBucket
from llmreplay.shaping.ratelimit.simple import AfterN, Always, RandomDeny, Unlimited
from llmreplay.shaping.ratelimit.strategies import DESCRIPTIONS, Params, build
from llmreplay.shaping.ratelimit.windows import FixedWindow, SlidingWindow


def admits(limiter, times, cost=1):
    return [limiter.acquire(t, cost).allowed for t in times]


def test_fixed_window_edges():
    w = FixedWindow(limit=3, window=10.0)
    assert admits(w, [0, 1, 2, 3, 9.999]) == [True, True, True, False, False]
    d = w.acquire(9.5)
    assert (d.remaining, d.reset_after, d.retry_after) == (0, pytest.approx(0.5), pytest.approx(0.5))
    # exactly at the boundary a new window starts
    assert admits(w, [10.0, 10.1, 10.2, 10.3]) == [True, True, True, False]
    # after a long pause the grid stays aligned: window [40, 50)
    assert w.acquire(47.0).reset_after == pytest.approx(3.0)


def test_fixed_window_allows_burst_across_boundary():
    w = FixedWindow(limit=2, window=1.0)
    assert admits(w, [0.0, 0.9, 0.99, 1.0, 1.01, 1.02]) == [True, True, False, True, True, False]


def test_sliding_window_edges():
    w = SlidingWindow(limit=2, window=1.0)
    assert admits(w, [0.0, 0.9]) == [True, True]
    d = w.acquire(0.95)
    assert not d.allowed and d.retry_after == pytest.approx(0.05)
    assert admits(w, [0.999, 1.0]) == [False, True]  # the request at 0.0 leaves the window at exactly 1.0
    assert admits(w, [1.5, 1.9]) == [False, True]
    # no burst across a boundary, unlike the fixed window
    w2 = SlidingWindow(limit=2, window=1.0)
    assert admits(w2, [0.0, 0.9, 0.99, 1.0, 1.01]) == [True, True, False, True, False]


def test_sliding_window_costs():
    w = SlidingWindow(limit=10, window=60.0)
    assert w.acquire(0, cost=6).allowed and w.acquire(1, cost=4).allowed
    d = w.acquire(2, cost=5)
    assert not d.allowed and d.retry_after == pytest.approx(58.0)


def test_token_bucket_burst_then_refill_rate():
    b = TokenBucket(capacity=5, rate=1.0)  # 1 token per second
    assert admits(b, [0, 0, 0, 0, 0, 0]) == [True] * 5 + [False]
    d = b.acquire(0.5)
    assert not d.allowed and d.retry_after == pytest.approx(0.5)
    assert admits(b, [1.0, 1.0]) == [True, False]
    assert admits(b, [3.0, 3.0, 3.0]) == [True, True, False]
    # refill caps at capacity
    assert admits(b, [100] * 6) == [True] * 5 + [False]
    assert b.acquire(100).reset_after == pytest.approx(5.0)


def test_token_bucket_rejects_cost_above_capacity_with_finite_retry():
    b = TokenBucket(capacity=100, rate=10.0)
    assert b.acquire(0, cost=80).allowed
    d = b.acquire(0, cost=50)
    assert not d.allowed and d.retry_after == pytest.approx(3.0) and d.remaining == 20


def test_leaky_bucket_drains_at_rate():
    b = LeakyBucket(capacity=2, rate=2.0)  # drains 2 per second
    assert admits(b, [0, 0, 0]) == [True, True, False]
    d = b.acquire(0.25)  # level 1.5 → one more needs 0.5 more drain: 0.25 s
    assert not d.allowed and d.retry_after == pytest.approx(0.25)
    assert admits(b, [0.5, 0.5]) == [True, False]
    # sustained: one request every 0.5 s is always admitted once drained to steady state
    assert all(admits(b, [1.0 + 0.5 * i for i in range(20)]))
    assert b.acquire(20).remaining == 1


def test_after_n_and_reset():
    a = AfterN(3, retry_after=5)
    assert admits(a, [0, 0, 0, 0, 100]) == [True, True, True, False, False]
    a.reset()
    assert admits(a, [0]) == [True]


def test_always_none_random():
    assert admits(Always(10, 1.0), [0, 1]) == [False, False]
    assert admits(Unlimited(), [0] * 100) == [True] * 100
    r1 = RandomDeny(0.3, random.Random(5), 10, 1.0)
    r2 = RandomDeny(0.3, random.Random(5), 10, 1.0)
    seq = admits(r1, [0] * 1000)
    assert seq == admits(r2, [0] * 1000)
    assert 250 <= seq.count(False) <= 350


@pytest.mark.parametrize("name", list(DESCRIPTIONS))
def test_every_listed_strategy_builds(name):
    limiter = build(name, Params(limit=3, window=1.0, after_n=2, probability=0.5), random.Random(0))
    limiter.acquire(0.0)
    limiter.reset()


def test_unknown_strategy():
    with pytest.raises(KeyError, match="fixed-window"):
        build("nope", Params())
