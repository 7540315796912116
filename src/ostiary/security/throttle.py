"""Throttling repeated failed authentication (rule R23; RFC 9700 section 4.11).

Each failure spends one unit of a per-key budget (an account's email, a client id, an address);
while a key's budget is spent, further attempts are refused with 429 and ``Retry-After`` before
any password or secret is checked. Budgets refill continuously over the configured window, so the
real owner is never locked out for longer than that window.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from ostiary.errors import RateLimited, Unauthorized
from ostiary.ratelimit import MemoryRateLimiter, RateLimiter


class FailureThrottle:
    """Counts failures per key and refuses attempts while a key's budget is spent."""

    def __init__(self, limit: int, window_seconds: int, limiter: RateLimiter | None = None) -> None:
        self._limiter = limiter or MemoryRateLimiter(limit, limit * 60 / window_seconds)

    def check(self, *keys: str) -> None:
        """Refuse (429) when any key has no budget left."""
        for key in keys:
            if self._limiter.remaining(key) == 0:
                raise RateLimited(max(1, self._limiter.retry_after(key)))

    def failed(self, *keys: str) -> None:
        """Spend one unit of every key's budget."""
        for key in keys:
            self._limiter.hit(key)

    @contextmanager
    def guard(self, *keys: str) -> Iterator[None]:
        """Check the keys first; count an Unauthorized raised inside as a failure of each."""
        self.check(*keys)
        try:
            yield
        except Unauthorized:
            self.failed(*keys)
            raise
