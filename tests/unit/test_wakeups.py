"""Wake-ups for long polls (ostiary.wakeups): a publication wakes the listeners of its topic in
this process and, through Redis, on every other node; without Redis a listener still wakes on
its fallback interval."""

from __future__ import annotations

import asyncio
import time

import pytest

from ostiary.shared_state import SharedState
from ostiary.wakeups import RedisWakeups, Wakeups
from tests.support.own_loop import run_in_own_loop
from tests.support.private_redis import SECRET, PrivateRedis


def test_a_publication_wakes_only_its_topic() -> None:
    async def scenario() -> tuple[bool, bool]:
        wakeups = Wakeups()
        async with wakeups.listening("login-1") as mine, wakeups.listening("login-2") as other:
            wakeups.publish("login-1")
            return await mine.wait(1.0), await other.wait(0.05)

    assert run_in_own_loop(scenario) == (True, False)


def test_a_publication_before_the_wait_is_not_lost() -> None:
    async def scenario() -> bool:
        wakeups = Wakeups()
        async with wakeups.listening("login-1") as woken:
            wakeups.publish("login-1")  # e.g. between the database read and the wait
            await asyncio.sleep(0)
            return await woken.wait(0.05)

    assert run_in_own_loop(scenario)


def test_another_node_is_woken_at_once_through_redis(redis_server: PrivateRedis) -> None:
    async def scenario() -> float:
        holder, approver = (
            RedisWakeups(SharedState(redis_server.url, secret=SECRET)),
            RedisWakeups(SharedState(redis_server.url, secret=SECRET)),
        )
        await holder.start()
        try:
            # Subscribed first: the delay measured is the publication's, not the start's.
            await asyncio.wait_for(holder._subscribed.wait(), 10)
            async with holder.listening("login-1") as woken:
                started = time.monotonic()
                approver.publish("login-1")
                assert await woken.wait(5.0)
                return time.monotonic() - started
        finally:
            await holder.close()

    assert run_in_own_loop(scenario) < 0.25


def test_without_redis_the_listener_falls_back_and_resubscribes(
    redis_server: PrivateRedis, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ostiary.shared_state.BREAKER_SECONDS", 0.0)
    monkeypatch.setattr("ostiary.wakeups.RESUBSCRIBE_SECONDS", 0.1)

    async def scenario() -> None:
        holder = RedisWakeups(SharedState(redis_server.url, secret=SECRET))
        approver = RedisWakeups(SharedState(redis_server.url, secret=SECRET))
        await holder.start()
        try:
            async with holder.listening("login-1") as woken:
                redis_server.stop()
                approver.publish("login-1")  # lost, and no error for the approver
                assert not await woken.wait(0.3)  # the poll's fallback re-read would run now
                redis_server.start()
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:  # the subscription comes back by itself
                    approver.publish("login-1")
                    if await woken.wait(0.2):
                        return
                pytest.fail("the wake-up subscription did not come back after Redis did")
        finally:
            await holder.close()

    run_in_own_loop(scenario)


def test_a_garbled_publication_does_not_stop_the_receiver(redis_server: PrivateRedis) -> None:
    import redis

    async def scenario() -> bool:
        shared = SharedState(redis_server.url, secret=SECRET)
        holder = RedisWakeups(shared)
        await holder.start()
        try:
            async with holder.listening("login-1") as woken:
                with redis.Redis(port=redis_server.port) as raw:
                    raw.publish(shared.key("wakeups"), b"\xff\xfe not UTF-8")
                RedisWakeups(shared).publish("login-1")
                return await woken.wait(2.0)
        finally:
            await holder.close()

    assert run_in_own_loop(scenario)
