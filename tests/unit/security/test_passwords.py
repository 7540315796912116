"""argon2id password hashing, and the same work for unknown accounts."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

import pytest

from ostiary.errors import PasswordChecksBusy
from ostiary.security import passwords
from tests.support.own_loop import run_in_own_loop


def test_hash_is_argon2id_and_verifies() -> None:
    hashed = passwords.hash_password("a long password")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify_password(hashed, "a long password")
    assert not passwords.verify_password(hashed, "a long passworD")


def test_unknown_account_still_runs_one_argon2_verification(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    real = passwords._hasher

    class CountingHasher:
        def verify(self, hash_: str, password: str) -> bool:
            calls.append(hash_)
            return real.verify(hash_, password)

    monkeypatch.setattr(passwords, "_hasher", CountingHasher())
    assert not passwords.verify_password(None, "guess")
    assert len(calls) == 1
    assert calls[0].startswith("$argon2id$")


def test_the_dummy_password_never_logs_anyone_in() -> None:
    assert not passwords.verify_password(None, "ostiary-dummy-password-for-timing")


def test_the_fixed_dummy_hash_costs_what_a_real_check_costs() -> None:
    # Made once with argon2-cffi's parameters and kept in the source, so that no worker hashes
    # at import: it must still have the parameters new hashes get, and be a real hash.
    fixed = passwords._FIXED_DUMMY_HASH
    assert not passwords._hasher.check_needs_rehash(fixed)
    assert passwords._hasher.verify(fixed, "ostiary-dummy-password-for-timing")
    assert fixed == passwords._DUMMY_HASH


def _run(coroutine: Any) -> Any:
    # A loop of its own, on a thread of its own: Playwright's loop may run in this worker.
    async def awaited() -> Any:
        return await coroutine

    return run_in_own_loop(awaited)


def test_the_pool_hashes_off_the_event_loop_at_the_lowest_priority(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[tuple[str, int]] = []

    def recording_verify(password_hash: str | None, password: str) -> bool:
        me = threading.current_thread()
        seen.append((me.name, os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
        return True

    monkeypatch.setattr(passwords, "verify_password", recording_verify)
    pool = passwords.PasswordPool(threads=1, queue=0)

    async def check() -> tuple[bool, str]:
        return await pool.verify("hash", "password"), threading.current_thread().name

    verified, loop_thread = _run(check())
    pool.close()
    assert verified is True
    ((name, priority),) = seen
    assert name.startswith("argon2")
    assert name != loop_thread
    assert priority == 19


def test_a_full_pool_refuses_at_once_without_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    release = threading.Event()
    started: list[str] = []

    def slow_verify(password_hash: str | None, password: str) -> bool:
        started.append(password)
        release.wait(10)
        return False

    monkeypatch.setattr(passwords, "verify_password", slow_verify)
    pool = passwords.PasswordPool(threads=1, queue=1)

    async def flood() -> list[object]:
        running = [asyncio.ensure_future(pool.verify(None, f"guess {n}")) for n in range(2)]
        await asyncio.sleep(0.05)
        try:
            await pool.verify(None, "one too many")
        except PasswordChecksBusy as error:
            refused: object = error
        else:
            refused = None
        release.set()
        return [refused, *(await asyncio.gather(*running))]

    refused, *answers = _run(flood())
    pool.close()
    assert isinstance(refused, PasswordChecksBusy)
    assert refused.retry_after >= 1
    assert answers == [False, False]
    assert "one too many" not in started
