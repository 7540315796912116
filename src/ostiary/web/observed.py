"""What monitoring learns of each finished request (usage counters, the access log, metrics),
from the conventions middleware (``web.middleware``) that tells every observer."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class ObservedRequest:
    """One finished HTTP request as monitoring sees it (usage counters, the access log,
    metrics). It holds no token, secret or query string: only the route's template."""

    at: float  # wall-clock start, seconds since the epoch
    method: str
    route: str | None  # the matched route's template, e.g. ``/apps/{app}``; None when none
    status: int
    duration: float  # seconds, from the first byte seen to the last byte sent
    ip: str | None
    user_agent: str | None
    request_id: str
    account_id: str | None
    authorization_id: str | None


RequestObserver = Callable[[ObservedRequest], None]
"""Told of every finished request, on the event loop: it must be quick and never block."""
