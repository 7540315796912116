"""The GCRA rate limit in Redis: one pool per key for every worker and node.

Each request is one server-side Lua script (``EVALSHA``), which reads the cell's theoretical
arrival time (TAT), decides and stores the new TAT atomically, so two nodes can never both spend
the last unit of a pool. Times are integer microseconds of the Redis server's own clock
(``TIME``), so the nodes' clocks need not agree; a cell expires when its TAT passes, which is
when its pool is full again, so idle accounts cost no memory.

:class:`FailOpenRateLimiter` keeps the API up when Redis is away: it counts in this process's
memory until Redis answers again (docs/deployment.md, "When Redis is down").
"""

from __future__ import annotations

from collections.abc import Callable

from ostiary.ratelimit import RateLimitDecision, RateLimiter
from ostiary.shared_state import SharedState, SharedStateUnavailable

# The GCRA cell operations, shared by every script that keeps pools (the throttles' too).
# A pool is (interval, capacity) in microseconds and units; ``now`` is passed by tests (a fake
# clock) or read from the server.
GCRA_LUA = """
local function gcra_now(given)
  local now = tonumber(given)
  if now then return now end
  local t = redis.call('TIME')
  return tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local function gcra_tat(key, now)
  local stored = tonumber(redis.call('GET', key))
  if stored and stored > now then return stored, true end
  return now, stored ~= nil
end
local function gcra_remaining(tat, now, interval, capacity)
  local left = math.floor((interval * capacity - (tat - now)) / interval)
  if left < 0 then return 0 end
  if left > capacity then return capacity end
  return left
end
local function gcra_wait(tat, now, interval, capacity)
  local wait = tat + interval - now - interval * capacity
  if wait <= 0 then return 0 end
  return math.ceil(wait / 1000000)
end
local function gcra_store(key, tat, now)
  local ttl = math.ceil((tat - now) / 1000)
  if ttl <= 0 then
    redis.call('DEL', key)
  else
    redis.call('SET', key, string.format('%.0f', tat), 'PX', string.format('%.0f', ttl))
  end
end
-- Spend one unit when the pool has one; answers the wait when it has none (0 when spent).
local function gcra_hit(key, now, interval, capacity)
  local tat = gcra_tat(key, now)
  local wait = gcra_wait(tat, now, interval, capacity)
  if wait > 0 then return wait, 0 end
  gcra_store(key, tat + interval, now)
  return 0, gcra_remaining(tat + interval, now, interval, capacity)
end
local function gcra_refund(key, now, interval)
  local tat, known = gcra_tat(key, now)
  if known then gcra_store(key, tat - interval, now) end
end
"""

_LIMITER_LUA = (
    GCRA_LUA
    + """
local op, interval, capacity = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3])
local now = gcra_now(ARGV[4])
if op == 'hit' then
  local wait, left = gcra_hit(KEYS[1], now, interval, capacity)
  return {wait, left}
elseif op == 'peek' then
  local tat = gcra_tat(KEYS[1], now)
  return {gcra_wait(tat, now, interval, capacity), gcra_remaining(tat, now, interval, capacity)}
end
gcra_refund(KEYS[1], now, interval)
return {0, 0}
"""
)


def interval_of(per_minute: float) -> int:
    """A pool's emission interval in whole microseconds (at least one)."""
    return max(1, round(60_000_000 / per_minute))


def microseconds(clock: Callable[[], float] | None) -> str:
    """``now`` for a script: the test clock's time, or empty for the Redis server's clock."""
    return "" if clock is None else str(round(clock() * 1_000_000))


class RedisRateLimiter:
    """A GCRA limiter whose pools live in Redis (``ratelimit.RateLimiter``); raises
    :class:`~ostiary.shared_state.SharedStateUnavailable` when Redis cannot be reached."""

    def __init__(
        self,
        shared: SharedState,
        name: str,
        capacity: int,
        per_minute: float,
        *,
        use: str = "rate_limit",
        clock: Callable[[], float] | None = None,
    ) -> None:
        self.capacity = capacity
        self._shared = shared
        self._name = name
        self._use = use
        self._interval = interval_of(per_minute)
        self._clock = clock
        self._script = shared.client.register_script(_LIMITER_LUA)

    def _run(self, op: str, key: str) -> tuple[int, int]:
        keys = [self._shared.key(self._name, key)]
        args: list[str | int] = [op, self._interval, self.capacity, microseconds(self._clock)]
        wait, left = self._shared.call(self._use, lambda client: self._script(keys, args, client))
        return int(wait), int(left)

    def hit(self, key: str) -> RateLimitDecision:
        """Count one request for ``key``; refuse it when the pool is empty."""
        wait, left = self._run("hit", key)
        if wait:
            return RateLimitDecision(False, 0, max(1, wait))
        return RateLimitDecision(True, left, 0)

    def remaining(self, key: str) -> int:
        """The requests ``key`` may still make, without counting one."""
        return self._run("peek", key)[1]

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may make one more request (0 when it may now)."""
        return self._run("peek", key)[0]

    def refund(self, key: str) -> None:
        """Give back one request counted for ``key``."""
        self._run("refund", key)


class FailOpenRateLimiter:
    """The shared limiter, or while Redis is away this process's own: an outage of the limiter
    is no outage of the API, and requests stay bounded per process meanwhile."""

    def __init__(self, shared: RateLimiter, fallback: RateLimiter) -> None:
        self._shared = shared
        self._fallback = fallback

    def hit(self, key: str) -> RateLimitDecision:
        """Count one request in the shared pool, or in this process's."""
        try:
            return self._shared.hit(key)
        except SharedStateUnavailable:
            return self._fallback.hit(key)

    def remaining(self, key: str) -> int:
        """The requests ``key`` may still make, from the pool that counts now."""
        try:
            return self._shared.remaining(key)
        except SharedStateUnavailable:
            return self._fallback.remaining(key)

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may make one more request."""
        try:
            return self._shared.retry_after(key)
        except SharedStateUnavailable:
            return self._fallback.retry_after(key)

    def refund(self, key: str) -> None:
        """Give back one request (to the shared pool when it is reachable)."""
        try:
            self._shared.refund(key)
        except SharedStateUnavailable:
            self._fallback.refund(key)
