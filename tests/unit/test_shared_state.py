"""The shared-state client (ostiary.shared_state): every URL form Redis is reached by, and no
password in what it says."""

from __future__ import annotations

import logging

import pytest

from ostiary.ratelimit.shared import RedisRateLimiter
from ostiary.shared_state import SharedState, SharedStateUnavailable, described
from tests.support.private_redis import SECRET, PrivateRedis


def test_a_unix_socket_reaches_the_same_pools(redis_server: PrivateRedis) -> None:
    over_tcp = RedisRateLimiter(SharedState(redis_server.url, secret=SECRET), "rate", 3, 0.001)
    over_socket = RedisRateLimiter(
        SharedState(redis_server.socket_url, secret=SECRET), "rate", 3, 0.001
    )
    assert over_tcp.hit("account-1").remaining == 2
    assert over_socket.hit("account-1").remaining == 1


def test_a_prefix_keeps_deployments_apart(redis_server: PrivateRedis) -> None:
    staging = RedisRateLimiter(
        SharedState(redis_server.url, secret=SECRET, prefix="staging"), "rate", 3, 0.001
    )
    production = RedisRateLimiter(
        SharedState(redis_server.url, secret=SECRET, prefix="prod"), "rate", 3, 0.001
    )
    staging.hit("account-1")
    assert production.remaining("account-1") == 3


def test_two_server_secrets_never_share_a_key(redis_server: PrivateRedis) -> None:
    mine = SharedState(redis_server.url, secret=SECRET)
    theirs = SharedState(redis_server.url, secret=b"another deployment's secret")
    assert mine.key("rate", "account-1") != theirs.key("rate", "account-1")
    assert mine.key("rate", "account-1") == SharedState(redis_server.url, secret=SECRET).key(
        "rate", "account-1"
    )


def test_the_password_never_reaches_the_log(caplog: pytest.LogCaptureFixture) -> None:
    assert described("rediss://ostiary:s3cret@cache.internal:6380/0") == (
        "rediss://cache.internal:6380/0"
    )
    assert described("redis://:s3cret@cache.internal") == "redis://cache.internal:6379/0"
    assert described("redis://cache.internal/2?password=s3cret") == "redis://cache.internal:6379/2"
    assert described("unix:///run/redis.sock?password=s3cret&db=1") == "unix:///run/redis.sock"
    assert described("rediss://cache:notaport/0") == "rediss://cache:6379/0"
    # Nothing listens on port 1: the outage is logged without the password.
    shared = SharedState("redis://:s3cret@127.0.0.1:1/0?password=s3cret", secret=SECRET)
    with caplog.at_level(logging.WARNING), pytest.raises(SharedStateUnavailable):
        shared.call("rate_limit", lambda client: client.ping())
    assert "127.0.0.1:1" in caplog.text
    assert "s3cret" not in caplog.text


def test_the_breaker_waits_longer_after_each_failed_trial(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = [100.0]
    monkeypatch.setattr("ostiary.shared_state.time.monotonic", lambda: now[0])
    shared = SharedState("redis://127.0.0.1:1/0", secret=SECRET)  # nothing listens there
    calls = []

    def ping(client: object) -> object:
        calls.append(now[0])
        return shared.client.ping()

    waits = []
    for _ in range(6):
        with pytest.raises(SharedStateUnavailable):
            shared.call("throttle", ping)
        opened = shared._breakers["throttle"].open_until
        waits.append(opened - now[0])
        with pytest.raises(SharedStateUnavailable):  # open: refused without asking Redis
            shared.call("throttle", ping)
        now[0] = opened
    assert waits == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert len(calls) == 6  # one trial per interval, never one per request
    assert "rate_limit" not in shared._breakers  # another use keeps its own breaker
