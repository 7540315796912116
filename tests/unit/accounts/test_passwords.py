"""The password checker's per-address cap (``accounts.passwords.PER_ADDRESS``): one address
cannot fill the pool everyone signs in through, and its refusals cost no hashing."""

from __future__ import annotations

import asyncio
import time
from typing import Any, cast

import pytest

from ostiary.accounts.models import Account
from ostiary.accounts.passwords import PER_ADDRESS, PasswordChecker
from ostiary.db import Database
from ostiary.errors import PasswordChecksBusy, Unauthorized
from ostiary.events import RequestContext
from ostiary.security.passwords import PasswordPool
from ostiary.security.throttle import FailureThrottle, MemoryFailureThrottle
from tests.support.own_loop import run_in_own_loop

REFUSAL_DELAY = 0.05


class HeldPool:
    """A pool whose checks wait until released, counting the passwords it was given."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.checked = 0

    async def verify(self, password_hash: str | None, password: str) -> bool:
        self.checked += 1
        await self.release.wait()
        return False

    async def hash(self, password: str) -> str:
        return "unused"


class NoLookups:
    """``confirm`` reads nothing from the database; the checker only prepares its lookup."""

    def prepared(self, statement: Any) -> None:
        return None


def _checker(pool: HeldPool, throttle: FailureThrottle) -> PasswordChecker:
    return PasswordChecker(
        cast(Database, NoLookups()),
        cast(PasswordPool, pool),
        throttle,
        refusal_delay=REFUSAL_DELAY,
    )


def _confirm(checker: PasswordChecker, ip: str) -> Any:
    account = Account(id="a", email="user@example.com", password_hash="$argon2id$stub")
    return checker.confirm(
        RequestContext(ip=ip), account, "a wrong guess", failure="Wrong.", action="test:reauth"
    )


def test_one_address_gets_at_most_per_address_checks_and_others_still_get_in() -> None:
    async def scenario() -> None:
        pool = HeldPool()
        throttle = MemoryFailureThrottle(limit=100, window_seconds=60, ip_limit=100)
        checker = _checker(pool, throttle)
        held = [asyncio.create_task(_confirm(checker, "203.0.113.9")) for _ in range(PER_ADDRESS)]
        await asyncio.sleep(0.01)
        assert pool.checked == PER_ADDRESS

        started = time.monotonic()
        with pytest.raises(PasswordChecksBusy):
            await _confirm(checker, "203.0.113.9")
        assert time.monotonic() - started >= REFUSAL_DELAY  # refused slowly, never hashed
        assert pool.checked == PER_ADDRESS

        other = asyncio.create_task(_confirm(checker, "198.51.100.4"))
        await asyncio.sleep(0.01)
        assert pool.checked == PER_ADDRESS + 1  # another address is checked meanwhile

        pool.release.set()
        for task in [*held, other]:
            with pytest.raises(Unauthorized):
                await task
        # The slots are given back: the first address may try again.
        pool.release.clear()
        again = asyncio.create_task(_confirm(checker, "203.0.113.9"))
        await asyncio.sleep(0.01)
        assert pool.checked == PER_ADDRESS + 2
        pool.release.set()
        with pytest.raises(Unauthorized):
            await again

    run_in_own_loop(scenario)


def test_a_refusal_for_a_full_address_is_not_charged_to_the_throttle() -> None:
    async def scenario() -> None:
        pool = HeldPool()
        # One failure left for the account: a charged refusal would spend it.
        throttle = MemoryFailureThrottle(limit=PER_ADDRESS + 1, window_seconds=3600, ip_limit=100)
        checker = _checker(pool, throttle)
        held = [asyncio.create_task(_confirm(checker, "203.0.113.9")) for _ in range(PER_ADDRESS)]
        await asyncio.sleep(0.01)
        with pytest.raises(PasswordChecksBusy):
            await _confirm(checker, "203.0.113.9")
        throttle.check("login:user@example.com", "203.0.113.9")  # a budget is left: no 429
        pool.release.set()
        for task in held:
            with pytest.raises(Unauthorized):
                await task

    run_in_own_loop(scenario)
