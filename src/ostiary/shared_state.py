"""The state several workers and nodes share: one Redis server (``OSTIARY_REDIS_URL``).

What lives there is counters and wake-ups, never a durable row: GCRA cells of the rate limit,
the failed-authentication throttles, and the pub/sub channel that wakes long polls. Losing it
loses nothing the database holds (docs/deployment.md, "What lives where").

Every call goes through :meth:`SharedState.call`, which bounds how long Redis may hold a request
(short socket timeouts, no retries) and opens a breaker after a failure: for
:data:`BREAKER_SECONDS` calls fail at once with :class:`SharedStateUnavailable` instead of each
waiting on a dead server, then the next call tries again, so service comes back by itself when
Redis does. Each use decides what an outage means (the rate limit fails open, the throttles fail
closed); this module logs the outage once per use and counts each failed call
(``ostiary_shared_state_failures_total``).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TypeVar
from urllib.parse import urlsplit

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from ostiary.metrics import SHARED_STATE_FAILURES

logger = logging.getLogger("ostiary.shared_state")

T = TypeVar("T")

# A Redis on the same network answers in well under a millisecond; one that takes longer than
# these is treated as down, so that it delays a request by at most this much.
CONNECT_TIMEOUT = 0.25
SOCKET_TIMEOUT = 0.5
BREAKER_SECONDS = 1.0

# What each use does while Redis is away, for the log line.
_FALLBACKS = {
    "rate_limit": "counting requests per process until it returns (fail open)",
    "throttle": "refusing password and client-secret checks with 503 until it returns",
    "wakeups": "long polls re-read the database instead",
}


class SharedStateUnavailable(Exception):
    """Redis could not be reached (or the breaker is open after a recent failure)."""


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = f"{parts.username}:***@" if parts.username else ":***@"
    return parts._replace(netloc=user + netloc).geturl()


class SharedState:
    """One Redis client with bounded waits and a breaker, shared by the process's uses."""

    def __init__(self, url: str, *, prefix: str = "ostiary") -> None:
        self.url = url
        self.prefix = prefix
        # No retries inside redis-py: a retry would multiply the time a dead server holds a
        # request; the breaker decides when to try again.
        self.client = redis.Redis.from_url(
            url,
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_timeout=SOCKET_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=30,
        )
        self._lock = threading.Lock()
        self._open_until = 0.0
        self._down: set[str] = set()

    def key(self, *parts: str) -> str:
        """A key in this deployment's namespace (``OSTIARY_REDIS_PREFIX``)."""
        return ":".join((self.prefix, *parts))

    def call(self, use: str, work: Callable[[redis.Redis], T]) -> T:
        """Run ``work`` against Redis, or raise :class:`SharedStateUnavailable`."""
        if time.monotonic() < self._open_until:
            self._mark_down(use, "a recent failure")
            raise SharedStateUnavailable(use)
        try:
            result = work(self.client)
        except redis.RedisError as error:
            with self._lock:
                self._open_until = time.monotonic() + BREAKER_SECONDS
            self._mark_down(use, type(error).__name__)
            raise SharedStateUnavailable(use) from error
        if self._down:
            self._recovered(use)
        return result

    def _mark_down(self, use: str, reason: str) -> None:
        SHARED_STATE_FAILURES.labels(use=use).inc()
        with self._lock:
            first = use not in self._down
            self._down.add(use)
        if first:
            logger.warning(
                "shared state unavailable for %s (Redis at %s: %s): %s",
                use,
                redacted(self.url),
                reason,
                _FALLBACKS.get(use, "failing"),
            )

    def _recovered(self, use: str) -> None:
        with self._lock:
            was_down = use in self._down
            self._down.discard(use)
        if was_down:
            logger.info("shared state for %s is back (Redis at %s)", use, redacted(self.url))

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()
