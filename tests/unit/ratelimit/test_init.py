"""The GCRA limiter (ostiary.ratelimit): a pool of N refilled at a steady rate, as a client
counting its allowed and refused requests sees it."""

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


def test_a_burst_of_exactly_the_capacity_is_allowed_at_once() -> None:
    limiter = MemoryRateLimiter(capacity=5, per_minute=60, clock=FakeClock())
    decisions = [limiter.hit("a") for _ in range(6)]
    assert [d.allowed for d in decisions] == [True] * 5 + [False]
    assert [d.remaining for d in decisions] == [4, 3, 2, 1, 0, 0]
    assert [d.retry_after for d in decisions] == [0] * 5 + [1]


def test_the_pool_refills_one_request_per_interval_and_no_sooner() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(capacity=2, per_minute=1, clock=clock)  # one a minute
    limiter.hit("a")
    limiter.hit("a")
    clock.now += 59.9
    assert limiter.remaining("a") == 0
    assert not limiter.hit("a").allowed
    clock.now += 0.1
    assert limiter.remaining("a") == 1
    clock.now += 600  # idle for long: the pool is full, never more than full
    assert limiter.remaining("a") == 2
    assert [limiter.hit("a").allowed for _ in range(3)] == [True, True, False]


def test_retry_after_is_the_wait_until_the_next_request_is_allowed() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(capacity=2, per_minute=1, clock=clock)
    assert limiter.retry_after("a") == 0
    limiter.hit("a")
    limiter.hit("a")
    refused = limiter.hit("a")
    assert refused.retry_after == limiter.retry_after("a") == 60
    clock.now += 45.5
    assert limiter.retry_after("a") == 15  # rounded up: waiting that long is always enough
    assert limiter.hit("a").retry_after == 15
    clock.now += 14.5
    assert limiter.retry_after("a") == 0
    assert limiter.hit("a").allowed


def test_a_refused_request_costs_nothing() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(capacity=1, per_minute=1, clock=clock)
    limiter.hit("a")
    for _ in range(100):  # hammering a spent pool does not push the refill back
        assert not limiter.hit("a").allowed
    clock.now += 60
    assert limiter.hit("a").allowed


def test_a_refund_gives_back_one_request_and_never_more_than_the_capacity() -> None:
    limiter = MemoryRateLimiter(capacity=3, per_minute=1, clock=FakeClock())
    limiter.refund("never-seen")  # nothing to give back
    assert limiter.remaining("never-seen") == 3
    for _ in range(3):
        limiter.hit("a")
    limiter.refund("a")
    assert limiter.remaining("a") == 1
    assert limiter.hit("a").allowed
    assert not limiter.hit("a").allowed
    for _ in range(10):
        limiter.refund("a")
    assert limiter.remaining("a") == 3
    assert [limiter.hit("a").allowed for _ in range(4)] == [True, True, True, False]


def test_idle_keys_are_forgotten_without_changing_any_answer() -> None:
    clock = FakeClock()
    limiter = MemoryRateLimiter(capacity=2, per_minute=60, clock=clock)
    for n in range(10_001):
        limiter.hit(f"idle-{n}")
    limiter.hit("busy")
    limiter.hit("busy")
    clock.now += 1.5  # the idle keys' pools are full again; "busy" has one of two back
    limiter.hit("trigger")  # a hit sweeps when more than 10,000 keys are remembered
    assert limiter.remaining("idle-0") == 2
    assert limiter.remaining("busy") == 1
