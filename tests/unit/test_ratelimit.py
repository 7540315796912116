"""The GCRA limiter: a pool of N refilled at a steady rate."""

from __future__ import annotations

from ostiary.ratelimit import MemoryRateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_pool_drains_then_refuses_then_refills() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(capacity=4500, per_minute=75, clock=clock)
    assert limiter.remaining("a") == 4500
    decisions = [limiter.hit("a") for _ in range(4500)]
    assert all(d.allowed for d in decisions)
    assert [d.remaining for d in decisions[:3]] == [4499, 4498, 4497]
    assert decisions[-1].remaining == 0
    refused = limiter.hit("a")
    assert not refused.allowed
    assert refused.retry_after == 1
    clock.now += 0.8  # 60 s / 75 = one request every 0.8 s
    assert limiter.hit("a").allowed
    assert not limiter.hit("a").allowed


def test_full_refill_after_an_hour() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(capacity=4500, per_minute=75, clock=clock)
    for _ in range(4500):
        limiter.hit("a")
    clock.now += 3600
    assert limiter.remaining("a") == 4500


def test_keys_are_independent_and_remaining_does_not_spend() -> None:
    limiter = MemoryRateLimiter(capacity=2, per_minute=1, clock=FakeClock())
    limiter.hit("a")
    limiter.hit("a")
    assert not limiter.hit("a").allowed
    assert limiter.remaining("b") == 2
    assert limiter.remaining("b") == 2
    assert limiter.hit("b").allowed
