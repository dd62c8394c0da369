"""Login throttling on the database: the doubling backoff, a success clearing its counter, an
admin clearing any, and one count for several nodes: failures on one node slow the others, and
parallel attempts at the limit pass only as far as the limit allows."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest

from gateway.service.errors import RateLimitedError
from gateway.service.ratelimit import LoginLimits, LoginRateLimiter
from gateway.store import Store

T0 = datetime(2026, 12, 5, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


async def test_login_limiter_backs_off_doubling_up_to_a_cap_and_forgets_after_window(
    store: Store,
) -> None:
    clock = Clock()
    limits = LoginLimits(free_failures_per_user_address=3, free_failures_per_user=100,
                         free_failures_per_address=100, backoff_initial_s=1.0,
                         backoff_max_s=4.0, window_s=60.0)
    limiter = LoginRateLimiter(limits, store.login_failures, clock)
    for _ in range(3):
        await limiter.begin("alice", "10.0.0.1")
    waits = []
    for _ in range(4):
        with pytest.raises(RateLimitedError) as raised:
            await limiter.begin("alice", "10.0.0.1")
        waits.append(raised.value.retry_after_s)
        clock.advance(raised.value.retry_after_s)
        await limiter.begin("alice", "10.0.0.1")  # allowed once the wait is over; counted
    assert waits == [1.0, 2.0, 4.0, 4.0]  # doubling, capped
    await limiter.begin("alice", "10.0.0.2")  # another address: its own counter
    await limiter.begin("Alice", "10.0.0.1")  # usernames are exact: another counter
    assert [t.kind for t in await limiter.throttles()] == ["user_address"]
    clock.advance(61.0)
    await limiter.begin("alice", "10.0.0.1")
    assert await limiter.throttles() == []
    clock.advance(61.0)
    assert await limiter.forget_idle() > 0
    assert await store.login_failures.live(now=clock(), window_s=1e9) == []


async def test_login_limiter_success_clears_its_counter_and_admin_can_clear_any(
    store: Store,
) -> None:
    limiter = LoginRateLimiter(LoginLimits(free_failures_per_user_address=2),
                               store.login_failures, Clock())
    await limiter.begin("alice", "10.0.0.1")
    await limiter.succeeded("alice", "10.0.0.1")
    await limiter.begin("alice", "10.0.0.1")
    await limiter.begin("alice", "10.0.0.1")
    with pytest.raises(RateLimitedError):
        await limiter.begin("alice", "10.0.0.1")
    assert await limiter.clear(username="alice") == 2  # user_address and user
    await limiter.begin("alice", "10.0.0.1")


async def test_failures_on_one_node_slow_logins_on_another(store_url: str) -> None:
    # Two stores (engines) on one database: two nodes of a cluster.
    first, second = await Store.open(store_url), await Store.open(store_url)
    try:
        clock = Clock()
        limits = LoginLimits(free_failures_per_user_address=3)
        on_a = LoginRateLimiter(limits, first.login_failures, clock)
        on_b = LoginRateLimiter(limits, second.login_failures, clock)
        await on_a.begin("alice", "10.0.0.1")
        await on_b.begin("alice", "10.0.0.1")
        await on_a.begin("alice", "10.0.0.1")
        with pytest.raises(RateLimitedError):
            await on_b.begin("alice", "10.0.0.1")
        assert [t.failures for t in await on_b.throttles()] == [3]
    finally:
        await first.close()
        await second.close()


async def test_parallel_attempts_at_the_limit_pass_only_as_far_as_the_limit(
    store_url: str,
) -> None:
    first, second = await Store.open(store_url), await Store.open(store_url)
    try:
        limits = LoginLimits(free_failures_per_user_address=3)
        clock = Clock()
        limiters = [LoginRateLimiter(limits, s.login_failures, clock) for s in (first, second)]
        await limiters[0].begin("alice", "10.0.0.1")  # the counter exists: its row is locked
        outcomes = await asyncio.gather(
            *(limiters[n % 2].begin("alice", "10.0.0.1") for n in range(12)),
            return_exceptions=True,
        )
        passed = [o for o in outcomes if o is None]
        refused = [o for o in outcomes if isinstance(o, RateLimitedError)]
        assert (len(passed), len(refused)) == (2, 10)
    finally:
        await first.close()
        await second.close()
