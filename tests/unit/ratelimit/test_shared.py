"""The rate limit in Redis (ostiary.ratelimit.shared): the same pool as the in-memory limiter,
one for every process that uses it, and an outage that the API does not notice."""

from __future__ import annotations

import logging
import random

import pytest

from ostiary.metrics import SHARED_STATE_FAILURES
from ostiary.ratelimit import MemoryRateLimiter
from ostiary.ratelimit.shared import FailOpenRateLimiter, RedisRateLimiter
from ostiary.shared_state import SharedState, SharedStateUnavailable
from tests.support.private_redis import SECRET, PrivateRedis


class FakeClock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def _node(
    redis_server: PrivateRedis,
    capacity: int = 5,
    per_minute: float = 60.0,
    clock: FakeClock | None = None,
) -> RedisRateLimiter:
    """One process's limiter on the shared pool."""
    return RedisRateLimiter(
        SharedState(redis_server.url, secret=SECRET), "rate", capacity, per_minute, clock=clock
    )


def test_decides_exactly_as_the_in_memory_pool(redis_server: PrivateRedis) -> None:
    clock = FakeClock()
    memory = MemoryRateLimiter(capacity=7, per_minute=20, clock=clock)
    shared = _node(redis_server, capacity=7, per_minute=20, clock=clock)
    steps = random.Random(7)
    for step in range(400):
        key = steps.choice("ab")
        action = steps.random()
        if action < 0.6:
            assert shared.hit(key) == memory.hit(key), step
        elif action < 0.7:
            shared.refund(key)
            memory.refund(key)
        else:
            clock.now += steps.choice([0.5, 1.0, 2.9, 3.0, 10.0])
        assert shared.remaining(key) == memory.remaining(key), step
        assert shared.retry_after(key) == memory.retry_after(key), step


def test_two_nodes_spend_one_pool(redis_server: PrivateRedis) -> None:
    first, second = _node(redis_server, per_minute=0.001), _node(redis_server, per_minute=0.001)
    answers = [(first if n % 2 else second).hit("account-1") for n in range(8)]
    assert [a.allowed for a in answers] == [True] * 5 + [False] * 3
    assert [a.remaining for a in answers[:5]] == [4, 3, 2, 1, 0]
    assert answers[-1].retry_after > 0
    assert first.remaining("account-2") == 5  # another account's pool is untouched


def test_an_idle_pool_leaves_no_key_behind(redis_server: PrivateRedis) -> None:
    import redis

    limiter = _node(redis_server, capacity=2, per_minute=60)  # a unit back each second
    limiter.hit("account-1")
    limiter.hit("account-1")
    cell = SharedState(redis_server.url, secret=SECRET).key("rate", "account-1")
    with redis.Redis(port=redis_server.port) as client:
        assert client.keys("*") == [cell.encode()]  # the account's id is not in the key
        # The cell expires when its pool is full again: two seconds after two requests.
        assert 1000 < client.pttl(cell) <= 2000


def test_redis_down_counts_per_process_then_shares_again(
    redis_server: PrivateRedis, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ostiary.shared_state.BREAKER_SECONDS", 0.0)
    shared = SharedState(redis_server.url, secret=SECRET)
    limiter = FailOpenRateLimiter(
        RedisRateLimiter(shared, "rate", 3, 0.001), MemoryRateLimiter(2, 0.001)
    )
    assert limiter.hit("account-1").remaining == 2
    failures = SHARED_STATE_FAILURES.labels(use="rate_limit")
    before = failures._value.get()
    redis_server.stop()
    with caplog.at_level(logging.WARNING, logger="ostiary.shared_state"):
        answers = [limiter.hit("account-1") for _ in range(3)]
    # Open, but bounded: this process's own pool of 2 counts meanwhile.
    assert [a.allowed for a in answers] == [True, True, False]
    assert failures._value.get() - before == 3
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1  # once per outage, not once per request
    assert "fail open" in warnings[0]
    assert f"127.0.0.1:{redis_server.port}" in warnings[0]
    redis_server.start()  # an empty Redis: the shared pool starts full again
    assert limiter.hit("account-1").remaining == 2


def test_a_dead_redis_is_not_asked_again_until_the_breaker_closes(
    redis_server: PrivateRedis,
) -> None:
    shared = SharedState(redis_server.url, secret=SECRET)
    limiter = RedisRateLimiter(shared, "rate", 3, 60)
    redis_server.stop()
    with pytest.raises(SharedStateUnavailable):
        limiter.hit("account-1")
    redis_server.start()
    with pytest.raises(SharedStateUnavailable):  # within BREAKER_SECONDS: refused without a call
        limiter.hit("account-1")
    shared._breakers["rate_limit"].open_until = 0.0  # the breaker's second has passed
    assert limiter.hit("account-1").allowed
