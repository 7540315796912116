"""The failed-authentication throttle (``security.throttle``) with its budgets in Redis, so a
guesser gets the same budget whichever worker or node answers.

Each operation is one Lua script over the three pools of the policy (the subject's, the
address's, and the pair's record), so a check and its charge are one atomic step across nodes.
Redis keys hold keyed digests of the subject and address (``SharedState.key``), not the email.

When Redis cannot be reached the throttle fails closed: checks answer 503 ``service_unavailable``
rather than let passwords and client secrets be guessed without limit (docs/deployment.md). A
refund that cannot be delivered is dropped: it would only have given back one unit.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable

from ostiary.errors import RateLimited, ServiceUnavailable
from ostiary.metrics import THROTTLED_AUTHENTICATIONS
from ostiary.ratelimit.shared import GCRA_LUA, interval_of, microseconds
from ostiary.security.address_limit import address_key
from ostiary.security.throttle import Charge, FailureThrottle
from ostiary.shared_state import SharedState, SharedStateUnavailable

# KEYS: the subject's pool, then (with an address) the address's and the pair's record.
# ARGV: op, now, subject interval and capacity, address interval and capacity, record interval.
# ARGV[8] (refund): the pools the charge spent. Answers {seconds to wait (0: the attempt may go
# on, as MemoryFailureThrottle.check decides), pools spent}.
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
-- Spends a unit of each pool that has one; answers which it spent (1 subject, 2 address,
-- 4 record), for a refund to give back exactly those.
local function spend()
  local spent = 0
  if gcra_hit(KEYS[1], now, si, sc) == 0 then spent = spent + 1 end
  if with_ip then
    if gcra_hit(KEYS[2], now, ai, ac) == 0 then spent = spent + 2 end
    if gcra_hit(KEYS[3], now, ri, 1) == 0 then spent = spent + 4 end
  end
  return spent
end
if op == 'check' then return {refusal(), 0} end
if op == 'charge' then
  local wait = refusal()
  if wait > 0 then return {wait, 0} end
  return {0, spend()}
end
if op == 'fail' then return {0, spend()} end
local spent = tonumber(ARGV[8])
if spent % 2 == 1 then gcra_refund(KEYS[1], now, si) end
if with_ip then
  if math.floor(spent / 2) % 2 == 1 then gcra_refund(KEYS[2], now, ai) end
  if math.floor(spent / 4) % 2 == 1 then gcra_refund(KEYS[3], now, ri) end
end
return {0, 0}
"""
)

UNREACHABLE = "the shared state of its sign-in checks"


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

    def _run(self, op: str, subject: str, ip: str | None, spent: int = 0) -> tuple[int, int]:
        keys = [self._shared.key("throttle", "s", subject)]
        if ip:
            keys.append(self._shared.key("throttle", "a", ip))
            keys.append(self._shared.key("throttle", "r", f"{subject}\n{ip}"))
        args: list[str | int] = [op, microseconds(self._clock), *self._pools, spent]
        try:
            wait, pools = self._shared.call(
                "throttle", lambda client: self._script(keys, args, client)
            )
        except SharedStateUnavailable as outage:
            raise ServiceUnavailable(1, unreachable=UNREACHABLE) from outage
        return int(wait), int(pools)

    def check(self, subject: str, ip: str | None) -> None:
        """Refuse (429) as the policy says; 503 when Redis cannot be asked."""
        wait, _ = self._run("check", subject, address_key(ip) if ip else None)
        if wait:
            THROTTLED_AUTHENTICATIONS.inc()
            raise RateLimited(wait)

    def failed(self, subject: str, ip: str | None) -> None:
        """Spend one unit of each budget; 503 when it cannot be recorded."""
        self._run("fail", subject, address_key(ip) if ip else None)

    def charge(self, subject: str, ip: str | None) -> Charge:
        """Check and spend in one atomic step."""
        address = address_key(ip) if ip else None
        wait, spent = self._run("charge", subject, address)
        if wait:
            THROTTLED_AUTHENTICATIONS.inc()
            raise RateLimited(wait)
        return Charge(subject, address, bool(spent & 1), bool(spent & 2), bool(spent & 4))

    def refund(self, charge: Charge) -> None:
        """Give back what ``charge`` spent; dropped while Redis is away."""
        spent = charge.subject_spent | charge.address_spent << 1 | charge.record_spent << 2
        if spent:
            with contextlib.suppress(ServiceUnavailable):
                self._run("refund", charge.subject, charge.ip, spent)
