"""A per-address budget for unauthenticated requests that create rows.

``POST /auth`` (the heroku CLI's browser login) and ``POST /oauth/device/code`` (RFC 8628 section
3.1) need no credentials and each stores a pending login. Spending a small budget per client
address (GCRA, refilled continuously) keeps one address from filling the database with them or
from minting approval links by the thousand for a phishing run; the periodic purge removes what
expires. An IPv6 client usually holds a whole /64, so IPv6 addresses share their /64's budget.
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from ostiary.errors import TooManyRequests
from ostiary.metrics import RATE_LIMITED
from ostiary.ratelimit import RateLimiter


@lru_cache(maxsize=4096)
def address_key(ip: str) -> str:
    """The budget an address spends: itself (IPv4), its /64 (IPv6), or the text as given."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network((address, 64), strict=False))
    return str(address)


class AddressLimiter:
    """A budget per address, kept by ``limiter`` (the app gives it ``login_request_limit``
    requests a minute, banked up to the same number, in memory or in Redis)."""

    def __init__(self, limiter: RateLimiter) -> None:
        self._limiter = limiter

    def spend(self, ip: str | None) -> None:
        """Count one request from ``ip``; TooManyRequests (429, Retry-After) when its budget is
        spent. A request without a peer address (a Unix socket) shares one budget."""
        decision = self._limiter.hit(address_key(ip or "unknown"))
        if not decision.allowed:
            RATE_LIMITED.labels(limit="login_requests").inc()
            raise TooManyRequests(decision.retry_after)
