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
    """Counts failures per subject (an account's email, a client id) and per address, and
    refuses attempts while either budget is spent. Addresses get a larger budget: many people
    can share one (a NAT, an office)."""

    def __init__(self, limit: int, window_seconds: int, ip_limit: int) -> None:
        self._subjects: RateLimiter = MemoryRateLimiter(limit, limit * 60 / window_seconds)
        self._addresses: RateLimiter = MemoryRateLimiter(ip_limit, ip_limit * 60 / window_seconds)

    def _pairs(self, subject: str, ip: str | None) -> list[tuple[RateLimiter, str]]:
        pairs = [(self._subjects, subject)]
        if ip:
            pairs.append((self._addresses, ip))
        return pairs

    def check(self, subject: str, ip: str | None) -> None:
        """Refuse (429) when the subject or the address has no budget left."""
        for limiter, key in self._pairs(subject, ip):
            if limiter.remaining(key) == 0:
                raise RateLimited(max(1, limiter.retry_after(key)))

    def failed(self, subject: str, ip: str | None) -> None:
        """Spend one unit of the subject's and the address's budgets."""
        for limiter, key in self._pairs(subject, ip):
            limiter.hit(key)

    @contextmanager
    def guard(self, subject: str, ip: str | None) -> Iterator[None]:
        """Check first; count an Unauthorized raised inside as a failure."""
        self.check(subject, ip)
        try:
            yield
        except Unauthorized:
            self.failed(subject, ip)
            raise
