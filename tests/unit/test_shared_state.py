"""The shared-state client (ostiary.shared_state): every URL form Redis is reached by, and no
password in what it says."""

from __future__ import annotations

import logging

import pytest

from ostiary.ratelimit.shared import RedisRateLimiter
from ostiary.shared_state import SharedState, SharedStateUnavailable, redacted
from tests.support.private_redis import PrivateRedis


def test_a_unix_socket_reaches_the_same_pools(redis_server: PrivateRedis) -> None:
    over_tcp = RedisRateLimiter(SharedState(redis_server.url), "rate", 3, 0.001)
    over_socket = RedisRateLimiter(SharedState(redis_server.socket_url), "rate", 3, 0.001)
    assert over_tcp.hit("account-1").remaining == 2
    assert over_socket.hit("account-1").remaining == 1


def test_a_prefix_keeps_deployments_apart(redis_server: PrivateRedis) -> None:
    staging = RedisRateLimiter(SharedState(redis_server.url, prefix="staging"), "rate", 3, 0.001)
    production = RedisRateLimiter(SharedState(redis_server.url, prefix="prod"), "rate", 3, 0.001)
    staging.hit("account-1")
    assert production.remaining("account-1") == 3


def test_the_password_never_reaches_the_log(caplog: pytest.LogCaptureFixture) -> None:
    assert redacted("rediss://ostiary:s3cret@cache.internal:6380/0") == (
        "rediss://ostiary:***@cache.internal:6380/0"
    )
    assert redacted("redis://:s3cret@cache.internal/0") == "redis://:***@cache.internal/0"
    assert redacted("redis://cache.internal/0") == "redis://cache.internal/0"
    # Nothing listens on port 1: the outage is logged with the redacted URL.
    shared = SharedState("redis://:s3cret@127.0.0.1:1/0")
    with caplog.at_level(logging.WARNING), pytest.raises(SharedStateUnavailable):
        shared.call("rate_limit", lambda client: client.ping())
    assert "127.0.0.1:1" in caplog.text
    assert "s3cret" not in caplog.text
