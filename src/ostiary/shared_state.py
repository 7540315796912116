"""The state several workers and nodes share: one Redis server (``OSTIARY_REDIS_URL``).

What lives there is counters and wake-ups, never a durable row: GCRA cells of the rate limit,
the failed-authentication throttles, and the pub/sub channel that wakes long polls. Losing it
loses nothing the database holds (docs/deployment.md, "What lives where").

Every call goes through :meth:`SharedState.call`, which bounds how long Redis may hold a request
(short socket timeouts, no retries) and opens a breaker for that use after a failure: while it is
open, calls fail at once with :class:`SharedStateUnavailable` instead of each waiting on a dead
server; then one call tries again. The breaker stays open :data:`BREAKER_SECONDS` after the first
failure and twice as long after each failed trial, up to :data:`BREAKER_MAX_SECONDS`, so a Redis
that hangs costs a worker one timeout per interval, and service comes back by itself within that
interval of Redis returning. Each use decides what an outage means (the rate limit fails open,
the throttles fail closed); this module logs the outage once per use and counts each failed call
(``ostiary_shared_state_failures_total``).

Keys carry a keyed BLAKE2 digest of what they count (an account, an email, an address), keyed
from the server secret: Redis holds no email or address, and two deployments sharing one Redis
never share a key.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, TypeVar
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import redis

from ostiary.metrics import SHARED_STATE_FAILURES

logger = logging.getLogger("ostiary.shared_state")

T = TypeVar("T")

# A Redis on the same network answers in well under a millisecond; one slower than these is
# treated as down, so that it delays a request by at most this much.
CONNECT_TIMEOUT = 0.25
SOCKET_TIMEOUT = 0.25
BREAKER_SECONDS = 1.0
BREAKER_MAX_SECONDS = 8.0

# What each use does while Redis is away, for the log line.
_FALLBACKS = {
    "rate_limit": "counting requests per process until it returns (fail open)",
    "throttle": "refusing password and client-secret checks with 503 until it returns",
    "wakeups": "long polls re-read the database instead",
}


class SharedStateUnavailable(Exception):
    """Redis could not be reached (or its breaker is open after a recent failure)."""


def described(url: str) -> str:
    """Where a Redis URL points, for messages: scheme, host and port (or socket path) and
    database, never a user name or password (in the URL's authority or its query)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return f"unix://{parts.path}"
    try:
        port = parts.port or 6379
    except ValueError:
        port = 6379
    return f"{parts.scheme}://{parts.hostname or 'localhost'}:{port}{parts.path or '/0'}"


@dataclass(slots=True)
class _Breaker:
    """One use's outage: calls are refused until ``open_until``; each failed trial doubles
    the wait."""

    open_until: float = 0.0
    wait: float = 0.0
    down: bool = False


class SharedState:
    """One Redis client with bounded waits and a breaker per use, shared by the process."""

    def __init__(self, url: str, *, secret: bytes, prefix: str = "ostiary") -> None:
        self.url = url
        self.prefix = prefix
        self._digest_key = hashlib.blake2b(secret, person=b"ostiary-redis").digest()
        # No retries inside redis-py: a retry would multiply the time a dead server holds a
        # request; the breaker decides when to try again.
        # Keepalive finds a TCP peer that vanished without a reset (Unix sockets cannot).
        tcp = {} if urlsplit(url).scheme == "unix" else {"socket_keepalive": True}
        # Imported here: a server without OSTIARY_REDIS_URL never loads redis-py (6 MB a worker).
        import redis
        from redis.backoff import NoBackoff
        from redis.retry import Retry

        self._errors: type[Exception] = redis.RedisError
        self.client: redis.Redis = redis.Redis.from_url(
            url,
            socket_connect_timeout=CONNECT_TIMEOUT,
            socket_timeout=SOCKET_TIMEOUT,
            retry=Retry(NoBackoff(), 0),
            health_check_interval=30,
            **tcp,
        )
        self._lock = threading.Lock()
        self._breakers: dict[str, _Breaker] = {}

    def key(self, name: str, *parts: str) -> str:
        """The key of ``parts`` in pool ``name``, in this deployment's namespace."""
        digest = hashlib.blake2b(
            "\n".join(parts).encode(), key=self._digest_key, digest_size=16
        ).hexdigest()
        return f"{self.prefix}:{name}:{digest}"

    def call(self, use: str, work: Callable[[redis.Redis], T]) -> T:
        """Run ``work`` against Redis, or raise :class:`SharedStateUnavailable`."""
        breaker = self._breakers.get(use)
        if breaker is not None and time.monotonic() < breaker.open_until:
            SHARED_STATE_FAILURES.labels(use=use).inc()
            raise SharedStateUnavailable(use)
        try:
            result = work(self.client)
        except self._errors as error:
            self._failed(use, type(error).__name__)
            raise SharedStateUnavailable(use) from error
        if breaker is not None and breaker.down:
            self._recovered(use, breaker)
        return result

    def _failed(self, use: str, reason: str) -> None:
        SHARED_STATE_FAILURES.labels(use=use).inc()
        with self._lock:
            breaker = self._breakers.setdefault(use, _Breaker())
            first = not breaker.down
            breaker.down = True
            breaker.wait = min(BREAKER_MAX_SECONDS, max(BREAKER_SECONDS, breaker.wait * 2))
            breaker.open_until = time.monotonic() + breaker.wait
        if first:
            logger.warning(
                "shared state unavailable for %s (Redis at %s: %s): %s",
                use,
                described(self.url),
                reason,
                _FALLBACKS.get(use, "failing"),
            )

    def _recovered(self, use: str, breaker: _Breaker) -> None:
        with self._lock:
            was_down = breaker.down
            breaker.down, breaker.wait = False, 0.0
        if was_down:
            logger.info("shared state for %s is back (Redis at %s)", use, described(self.url))

    def close(self) -> None:
        """Close the client's connections."""
        self.client.close()
