"""The failed-authentication throttle's lockout policy (security/throttle.py; rule R23 of
docs/oauth-server-rules.md), as a guesser and the account's owner see it: the same tests for the
budgets in this process's memory and in Redis (security/shared_throttle.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ostiary.errors import Forbidden, RateLimited, ServiceUnavailable, Unauthorized
from ostiary.security.shared_throttle import RedisFailureThrottle
from ostiary.security.throttle import FailureThrottle, MemoryFailureThrottle
from ostiary.shared_state import SharedState
from tests.support.private_redis import SECRET, PrivateRedis

ACCOUNT = "login:carol@example.com"
OTHER = "login:dave@example.com"


class FakeClock:
    """Monotonic seconds that only move when the test says so."""

    def __init__(self) -> None:
        self.now = 5000.0

    def __call__(self) -> float:
        return self.now


MakeThrottle = Callable[..., FailureThrottle]


@pytest.fixture(params=["memory", "redis"])
def make_throttle(request: pytest.FixtureRequest) -> MakeThrottle:
    """Builds throttles keeping their budgets in memory, or in a private Redis."""
    if request.param == "memory":
        return MemoryFailureThrottle
    shared = SharedState(request.getfixturevalue("redis_server").url, secret=SECRET)

    def in_redis(
        limit: int, window_seconds: int, ip_limit: int, clock: FakeClock | None = None
    ) -> FailureThrottle:
        return RedisFailureThrottle(shared, limit, window_seconds, ip_limit, clock=clock)

    return in_redis


def _refused(throttle: FailureThrottle, subject: str, ip: str | None) -> int:
    """The Retry-After of a refused check (fails the test when the check passes)."""
    with pytest.raises(RateLimited) as refused:
        throttle.check(subject, ip)
    return refused.value.retry_after


def _fail(throttle: FailureThrottle, subject: str, ip: str | None, times: int) -> None:
    for _ in range(times):
        throttle.check(subject, ip)
        throttle.failed(subject, ip)


def test_a_guessing_address_is_locked_out_of_the_account(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle(limit=3, window_seconds=300, ip_limit=100)
    _fail(throttle, ACCOUNT, "203.0.113.5", 3)
    with pytest.raises(RateLimited) as refused:
        throttle.check(ACCOUNT, "203.0.113.5")
    assert refused.value.retry_after >= 1


def test_the_owner_still_gets_in_from_an_address_with_a_clean_record(
    make_throttle: MakeThrottle,
) -> None:
    throttle = make_throttle(limit=3, window_seconds=300, ip_limit=100)
    _fail(throttle, ACCOUNT, "203.0.113.5", 3)
    throttle.check(ACCOUNT, "198.51.100.7")  # no failure from here: may try


def test_spreading_guesses_over_addresses_gives_each_one_guess(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle(limit=3, window_seconds=300, ip_limit=100)
    _fail(throttle, ACCOUNT, "203.0.113.5", 3)
    _fail(throttle, ACCOUNT, "203.0.113.6", 1)
    with pytest.raises(RateLimited):
        throttle.check(ACCOUNT, "203.0.113.6")


def test_an_address_that_spent_its_budget_is_refused_for_every_account(
    make_throttle: MakeThrottle,
) -> None:
    throttle = make_throttle(limit=3, window_seconds=300, ip_limit=5)
    for n in range(5):
        _fail(throttle, f"login:user{n}@example.com", "203.0.113.5", 1)
    with pytest.raises(RateLimited):
        throttle.check("login:someone-else@example.com", "203.0.113.5")
    throttle.check("login:someone-else@example.com", "198.51.100.7")


def test_the_budget_refills_over_the_window_one_guess_at_a_time(
    make_throttle: MakeThrottle,
) -> None:
    clock = FakeClock()
    throttle = make_throttle(limit=3, window_seconds=300, ip_limit=100, clock=clock)
    _fail(throttle, ACCOUNT, "203.0.113.5", 3)
    assert _refused(throttle, ACCOUNT, "203.0.113.5") == 100  # 300 s / 3 guesses
    clock.now += 99
    assert _refused(throttle, ACCOUNT, "203.0.113.5") == 1
    clock.now += 1
    _fail(throttle, ACCOUNT, "203.0.113.5", 1)  # one more guess, and only one
    assert _refused(throttle, ACCOUNT, "203.0.113.5") == 100


def test_nobody_is_locked_out_for_longer_than_the_window(make_throttle: MakeThrottle) -> None:
    clock = FakeClock()
    throttle = make_throttle(limit=3, window_seconds=300, ip_limit=3, clock=clock)
    _fail(throttle, ACCOUNT, "203.0.113.5", 3)  # spends the account's and the address's budget
    assert _refused(throttle, ACCOUNT, "203.0.113.5") <= 300
    assert _refused(throttle, OTHER, "203.0.113.5") <= 300
    clock.now += 300
    _fail(throttle, ACCOUNT, "203.0.113.5", 3)  # a full budget again


def test_a_clean_record_is_per_account_and_lasts_until_the_address_fails_there(
    make_throttle: MakeThrottle,
) -> None:
    clock = FakeClock()
    throttle = make_throttle(limit=3, window_seconds=300, ip_limit=100, clock=clock)
    _fail(throttle, OTHER, "198.51.100.7", 1)  # the owner mistyped another account's password
    _fail(throttle, ACCOUNT, "203.0.113.5", 3)
    throttle.check(ACCOUNT, "198.51.100.7")  # a failure elsewhere leaves the record clean
    throttle.failed(ACCOUNT, "198.51.100.7")
    # The record stays stained for the whole window, even though the account's own budget
    # refills sooner (one guess per 100 s, which the guessing addresses get too).
    assert _refused(throttle, ACCOUNT, "198.51.100.7") == 100


def test_a_spent_account_refuses_a_request_without_an_address(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle(limit=3, window_seconds=300, ip_limit=100)
    _fail(throttle, ACCOUNT, "203.0.113.5", 3)
    _refused(throttle, ACCOUNT, None)  # no address, so no clean record to claim
    throttle.check(OTHER, None)


def test_failures_without_an_address_spend_only_the_accounts_budget(
    make_throttle: MakeThrottle,
) -> None:
    throttle = make_throttle(limit=3, window_seconds=300, ip_limit=1)
    _fail(throttle, ACCOUNT, None, 3)  # e.g. over a Unix socket
    _refused(throttle, ACCOUNT, None)
    throttle.check(ACCOUNT, "203.0.113.5")  # any address has a clean record
    throttle.check(OTHER, None)


def test_an_ipv6_client_is_one_address_per_64(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle(limit=3, window_seconds=300, ip_limit=100)
    for host in ("2001:db8:1:2::a", "2001:db8:1:2::b", "2001:db8:1:2:ffff::1"):
        _fail(throttle, ACCOUNT, host, 1)
    # A fresh address in the same /64 has no clean record; one in another /64 does.
    _refused(throttle, ACCOUNT, "2001:db8:1:2::c")
    throttle.check(ACCOUNT, "2001:db8:1:3::a")


def test_an_ipv6_64_shares_one_address_budget(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle(limit=3, window_seconds=300, ip_limit=4)
    for n in range(4):
        _fail(throttle, f"login:user{n}@example.com", f"2001:db8:1:2::{n + 1}", 1)
    _refused(throttle, "login:someone-else@example.com", "2001:db8:1:2::99")
    throttle.check("login:someone-else@example.com", "2001:db8:1:3::1")


def test_an_ipv4_mapped_address_is_the_ipv4_address(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle(limit=3, window_seconds=300, ip_limit=100)
    _fail(throttle, ACCOUNT, "::ffff:203.0.113.5", 3)
    _refused(throttle, ACCOUNT, "203.0.113.5")


def test_concurrent_charged_attempts_cannot_outrun_the_budget(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle(limit=3, window_seconds=300, ip_limit=100)
    for _ in range(3):  # three attempts charged, none finished yet
        throttle.charge(ACCOUNT, "203.0.113.5")
    _refused(throttle, ACCOUNT, "203.0.113.5")
    with pytest.raises(RateLimited):
        throttle.charge(ACCOUNT, "203.0.113.5")


def test_a_refunded_attempt_costs_nothing(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle(limit=3, window_seconds=300, ip_limit=2)
    for _ in range(20):  # the owner signs in again and again: each success is refunded
        throttle.refund(throttle.charge(ACCOUNT, "203.0.113.5"))
    _fail(throttle, ACCOUNT, "203.0.113.5", 2)  # the address's whole budget is still there
    _refused(throttle, OTHER, "203.0.113.5")


def test_a_refund_gives_back_the_one_attempt_charged(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle(limit=3, window_seconds=300, ip_limit=100)
    charges = [throttle.charge(ACCOUNT, "203.0.113.5") for _ in range(3)]
    throttle.refund(charges[-1])
    throttle.charge(ACCOUNT, "203.0.113.5")
    _refused(throttle, ACCOUNT, "203.0.113.5")
    throttle.refund(throttle.charge(OTHER, None))  # without an address: the account's unit only
    throttle.check(OTHER, "203.0.113.5")


def test_a_refund_never_gives_back_what_the_charge_did_not_take(
    make_throttle: MakeThrottle,
) -> None:
    # An address with a clean record may try against a spent account: its charge spends the
    # address's and the record's units but nothing of the account's. When that attempt is never
    # checked (the password pool is full), its refund must not top the account up: otherwise
    # each busy refusal would buy every other address one more guess.
    throttle = make_throttle(limit=3, window_seconds=300, ip_limit=100)
    _fail(throttle, ACCOUNT, "203.0.113.5", 3)
    for guesser in range(20):
        address = f"198.51.100.{guesser}"
        throttle.refund(throttle.charge(ACCOUNT, address))  # tried from a clean record, refunded
    _refused(throttle, ACCOUNT, "203.0.113.5")
    _refused(throttle, ACCOUNT, None)


def test_guard_counts_only_an_unauthorized_attempt(make_throttle: MakeThrottle) -> None:
    throttle = make_throttle(limit=1, window_seconds=300, ip_limit=100)
    with throttle.guard(ACCOUNT, "203.0.113.5"):
        pass  # a success costs nothing
    with pytest.raises(Forbidden), throttle.guard(ACCOUNT, "203.0.113.5"):
        raise Forbidden("signed in, but not allowed")  # not a guess
    throttle.check(ACCOUNT, "203.0.113.5")
    with pytest.raises(Unauthorized), throttle.guard(ACCOUNT, "203.0.113.5"):
        raise Unauthorized("wrong password")
    _refused(throttle, ACCOUNT, "203.0.113.5")
    with pytest.raises(RateLimited), throttle.guard(ACCOUNT, "203.0.113.5"):
        pytest.fail("a refused attempt is never tried")


def test_two_nodes_share_one_budget(redis_server: PrivateRedis) -> None:
    first, second = (
        RedisFailureThrottle(SharedState(redis_server.url, secret=SECRET), 3, 300, 100)
        for _ in range(2)
    )
    _fail(first, ACCOUNT, "203.0.113.5", 2)
    _fail(second, ACCOUNT, "203.0.113.5", 1)
    _refused(first, ACCOUNT, "203.0.113.5")
    _refused(second, ACCOUNT, "203.0.113.5")


def test_redis_keeps_no_email_or_address_in_clear(redis_server: PrivateRedis) -> None:
    import redis

    throttle = RedisFailureThrottle(SharedState(redis_server.url, secret=SECRET), 3, 300, 100)
    _fail(throttle, ACCOUNT, "203.0.113.5", 1)
    with redis.Redis(port=redis_server.port) as client:
        keys = [key.decode() for key in client.keys("*")]
    assert len(keys) == 3
    assert all(key.startswith("ostiary:throttle:") for key in keys)
    assert not [key for key in keys if "carol" in key or "203.0.113" in key]


def test_with_redis_down_every_check_is_refused_not_waved_through(
    redis_server: PrivateRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ostiary.shared_state.BREAKER_SECONDS", 0.0)
    throttle = RedisFailureThrottle(SharedState(redis_server.url, secret=SECRET), 3, 300, 100)
    charge = throttle.charge(ACCOUNT, "203.0.113.5")
    redis_server.stop()
    for attempt in (throttle.check, throttle.charge, throttle.failed):
        with pytest.raises(ServiceUnavailable) as refused:
            attempt(ACCOUNT, "203.0.113.5")
        assert refused.value.retry_after >= 1
    throttle.refund(charge)  # a lost refund is dropped, not an error
    redis_server.start()
    throttle.check(ACCOUNT, "203.0.113.5")  # back by itself
