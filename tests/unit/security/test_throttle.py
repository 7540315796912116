"""The failed-authentication throttle's lockout policy (security/throttle.py)."""

from __future__ import annotations

import pytest

from ostiary.errors import RateLimited
from ostiary.security.throttle import FailureThrottle

ACCOUNT = "login:carol@example.com"


def _fail(throttle: FailureThrottle, subject: str, ip: str, times: int) -> None:
    for _ in range(times):
        throttle.check(subject, ip)
        throttle.failed(subject, ip)


def test_a_guessing_address_is_locked_out_of_the_account() -> None:
    throttle = FailureThrottle(limit=3, window_seconds=300, ip_limit=100)
    _fail(throttle, ACCOUNT, "203.0.113.5", 3)
    with pytest.raises(RateLimited) as refused:
        throttle.check(ACCOUNT, "203.0.113.5")
    assert refused.value.retry_after >= 1


def test_the_owner_still_gets_in_from_an_address_with_a_clean_record() -> None:
    throttle = FailureThrottle(limit=3, window_seconds=300, ip_limit=100)
    _fail(throttle, ACCOUNT, "203.0.113.5", 3)
    throttle.check(ACCOUNT, "198.51.100.7")  # no failure from here: may try


def test_spreading_guesses_over_addresses_gives_each_one_guess() -> None:
    throttle = FailureThrottle(limit=3, window_seconds=300, ip_limit=100)
    _fail(throttle, ACCOUNT, "203.0.113.5", 3)
    _fail(throttle, ACCOUNT, "203.0.113.6", 1)
    with pytest.raises(RateLimited):
        throttle.check(ACCOUNT, "203.0.113.6")


def test_an_address_that_spent_its_budget_is_refused_for_every_account() -> None:
    throttle = FailureThrottle(limit=3, window_seconds=300, ip_limit=5)
    for n in range(5):
        _fail(throttle, f"login:user{n}@example.com", "203.0.113.5", 1)
    with pytest.raises(RateLimited):
        throttle.check("login:someone-else@example.com", "203.0.113.5")
    throttle.check("login:someone-else@example.com", "198.51.100.7")
