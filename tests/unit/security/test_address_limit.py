"""The per-address budget of login requests: spent, refused with Retry-After, refilled; an IPv6
client cannot dodge it by hopping addresses inside its /64."""

from __future__ import annotations

import pytest

from ostiary.errors import RateLimited
from ostiary.ratelimit import MemoryRateLimiter
from ostiary.security.address_limit import AddressLimiter, address_key


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def limiter(per_minute: int, clock: Clock) -> AddressLimiter:
    return AddressLimiter(MemoryRateLimiter(per_minute, per_minute, clock=clock))


def test_the_budget_is_spent_refused_and_refilled() -> None:
    clock = Clock()
    budget = limiter(3, clock)
    for _ in range(3):
        budget.spend("198.51.100.1")
    with pytest.raises(RateLimited) as refused:
        budget.spend("198.51.100.1")
    assert refused.value.retry_after == 20  # one request's worth of refill at 3 a minute
    assert "Too many login requests from this address" in refused.value.message
    budget.spend("198.51.100.2")  # another address, its own budget
    clock.now += 20
    budget.spend("198.51.100.1")


@pytest.mark.parametrize(
    ("address", "key"),
    [
        ("198.51.100.7", "198.51.100.7"),
        ("2001:db8:1:2:aaaa::1", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff:ffff:ffff:ffff", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
        ("unix-socket", "unix-socket"),
    ],
)
def test_addresses_and_their_budgets(address: str, key: str) -> None:
    assert address_key(address) == key


def test_hopping_inside_a_64_shares_one_budget() -> None:
    budget = limiter(2, Clock())
    budget.spend("2001:db8::1")
    budget.spend("2001:db8::2")
    with pytest.raises(RateLimited):
        budget.spend("2001:db8::ffff:3")
    budget.spend("2001:db8:0:1::1")  # the next /64
