"""Per-account API rate limiting (GCRA) behind one interface, with an in-memory implementation.

The pool: ``capacity`` requests banked per account, refilled at ``per_minute``. The Generic Cell
Rate Algorithm keeps one number per account, the theoretical arrival time (TAT) of the next
request; the budget left is how far the TAT lags the end of the burst window.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

# Float time accumulates rounding error over thousands of requests; this tolerance (a microsecond)
# keeps it from costing the last request of a full pool.
_TOLERANCE = 1e-6


@dataclass(frozen=True, slots=True)
class RateLimitDecision:
    """The outcome of counting one request."""

    allowed: bool
    remaining: int
    retry_after: int


class RateLimiter(Protocol):
    """Counts requests per key against a GCRA pool."""

    def hit(self, key: str) -> RateLimitDecision:
        """Count one request for ``key`` and say whether it may proceed."""
        ...

    def remaining(self, key: str) -> int:
        """How many requests ``key`` may still make now, without counting one."""
        ...

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may make one more request (0 when it may now)."""
        ...

    def refund(self, key: str) -> None:
        """Give back one request counted for ``key`` (one that turned out not to count)."""
        ...


class MemoryRateLimiter:
    """A GCRA limiter in this process's memory.

    Exact for one server process. With several workers each keeps its own pool, so an account
    can spend up to ``workers x capacity``; a shared limiter (Redis, with the planned scale-out)
    would keep one pool behind the same protocol.
    """

    def __init__(
        self,
        capacity: int,
        per_minute: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.capacity = capacity
        self.interval = 60.0 / per_minute
        self._burst = self.interval * capacity
        self._clock = clock
        self._tat: dict[str, float] = {}
        self._lock = threading.Lock()

    def _remaining(self, tat: float, now: float) -> int:
        budget = (self._burst - (tat - now) + _TOLERANCE) / self.interval
        return max(0, min(self.capacity, math.floor(budget)))

    def hit(self, key: str) -> RateLimitDecision:
        """Count one request for ``key``; refuse it when the pool is empty."""
        with self._lock:
            now = self._clock()
            tat = max(self._tat.get(key, now), now)
            new_tat = tat + self.interval
            if new_tat - now > self._burst + _TOLERANCE:
                retry_after = math.ceil(new_tat - now - self._burst)
                return RateLimitDecision(False, 0, max(1, retry_after))
            self._tat[key] = new_tat
            self._forget_idle(now)
            return RateLimitDecision(True, self._remaining(new_tat, now), 0)

    def remaining(self, key: str) -> int:
        """The requests ``key`` may still make, without counting one."""
        with self._lock:
            now = self._clock()
            return self._remaining(max(self._tat.get(key, now), now), now)

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may make one more request (0 when it may now)."""
        with self._lock:
            now = self._clock()
            wait = max(self._tat.get(key, now), now) + self.interval - now - self._burst
            return max(0, math.ceil(wait - _TOLERANCE))

    def refund(self, key: str) -> None:
        """Give back one request counted for ``key``."""
        with self._lock:
            tat = self._tat.get(key)
            if tat is not None:
                self._tat[key] = tat - self.interval

    def _forget_idle(self, now: float) -> None:
        # A TAT in the past means a full pool: such keys need no memory. Sweep rarely.
        if len(self._tat) > 10_000:
            self._tat = {key: tat for key, tat in self._tat.items() if tat > now}
