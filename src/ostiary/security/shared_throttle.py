"""The failed-authentication throttle (``security.throttle``) with its budgets in Redis, so a
guesser gets the same budget whichever worker or node answers.

Each operation is one Lua script over the three pools of the policy (the subject's, the
address's, and the pair's record), so a check and its charge are one atomic step across nodes.
Redis keys hold a BLAKE2 digest of the subject and address, not the email itself.

When Redis cannot be reached the throttle fails closed: checks answer 503 ``service_unavailable``
rather than let passwords and client secrets be guessed without limit (docs/deployment.md). A
refund that cannot be delivered is dropped: it would only have given back one unit.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Callable

from ostiary.errors import RateLimited, ServiceUnavailable
from ostiary.ratelimit.shared import GCRA_LUA, interval_of, microseconds
from ostiary.security.address_limit import address_key
from ostiary.security.throttle import FailureThrottle
from ostiary.shared_state import SharedState, SharedStateUnavailable

# KEYS: the subject's pool, then (with an address) the address's and the pair's record.
# ARGV: op, now, subject interval and capacity, address interval and capacity, record interval.
# Answers the seconds to wait (0: the attempt may go on), as MemoryFailureThrottle.check decides.
_THROTTLE_LUA = (
    GCRA_LUA
    + """
local op, now = ARGV[1], gcra_now(ARGV[2])
local si, sc = tonumber(ARGV[3]), tonumber(ARGV[4])
local ai, ac, ri = tonumber(ARGV[5]), tonumber(ARGV[6]), tonumber(ARGV[7])
local with_ip = #KEYS == 3
local function refusal()
  if with_ip then
    local at = gcra_tat(KEYS[2], now)
    if gcra_remaining(at, now, ai, ac) == 0 then
      return math.max(1, gcra_wait(at, now, ai, ac))
    end
  end
  local st = gcra_tat(KEYS[1], now)
  if gcra_remaining(st, now, si, sc) > 0 then return 0 end
  local wait = gcra_wait(st, now, si, sc)
  if with_ip then
    local rt = gcra_tat(KEYS[3], now)
    if gcra_remaining(rt, now, ri, 1) > 0 then return 0 end
    wait = math.min(wait, gcra_wait(rt, now, ri, 1))
  end
  return math.max(1, wait)
end
local function spend()
  gcra_hit(KEYS[1], now, si, sc)
  if with_ip then
    gcra_hit(KEYS[2], now, ai, ac)
    gcra_hit(KEYS[3], now, ri, 1)
  end
end
if op == 'check' then return refusal() end
if op == 'charge' then
  local wait = refusal()
  if wait == 0 then spend() end
  return wait
end
if op == 'fail' then
  spend()
  return 0
end
gcra_refund(KEYS[1], now, si)
if with_ip then
  gcra_refund(KEYS[2], now, ai)
  gcra_refund(KEYS[3], now, ri)
end
return 0
"""
)

UNREACHABLE = "the shared state of its sign-in checks"


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


class RedisFailureThrottle(FailureThrottle):
    """The lockout policy of ``security.throttle``, one set of budgets for every node."""

    def __init__(
        self,
        shared: SharedState,
        limit: int,
        window_seconds: int,
        ip_limit: int,
        *,
        clock: Callable[[], float] | None = None,
    ) -> None:
        per_window = 60 / window_seconds
        self._shared = shared
        self._clock = clock
        self._pools = [
            interval_of(limit * per_window),
            limit,
            interval_of(ip_limit * per_window),
            ip_limit,
            interval_of(per_window),
        ]
        self._script = shared.client.register_script(_THROTTLE_LUA)

    def _run(self, op: str, subject: str, ip: str | None) -> int:
        keys = [self._shared.key("throttle", "s", _digest(subject))]
        if ip:
            ip = address_key(ip)
            keys.append(self._shared.key("throttle", "a", _digest(ip)))
            keys.append(self._shared.key("throttle", "r", _digest(f"{subject}\n{ip}")))
        args: list[str | int] = [op, microseconds(self._clock), *self._pools]
        try:
            wait = self._shared.call("throttle", lambda client: self._script(keys, args, client))
        except SharedStateUnavailable as outage:
            raise ServiceUnavailable(1, unreachable=UNREACHABLE) from outage
        return int(wait)

    def check(self, subject: str, ip: str | None) -> None:
        """Refuse (429) as the policy says; 503 when Redis cannot be asked."""
        wait = self._run("check", subject, ip)
        if wait:
            raise RateLimited(wait)

    def failed(self, subject: str, ip: str | None) -> None:
        """Spend one unit of each budget; 503 when it cannot be recorded."""
        self._run("fail", subject, ip)

    def charge(self, subject: str, ip: str | None) -> None:
        """Check and spend in one atomic step."""
        wait = self._run("charge", subject, ip)
        if wait:
            raise RateLimited(wait)

    def refund(self, subject: str, ip: str | None) -> None:
        """Give back what :meth:`charge` spent; dropped while Redis is away."""
        with contextlib.suppress(ServiceUnavailable):
            self._run("refund", subject, ip)
