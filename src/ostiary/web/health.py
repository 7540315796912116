"""``GET /health``: for load balancers; no credentials, no Accept header.

200 ``{"status": "ok", "database": "up"}`` while the process answers and its database does;
503 ``service_unavailable`` (with ``Retry-After`` and ``"database": "down"``) while the database
cannot be reached, so a load balancer takes this instance out until it recovers, which it does
by itself.

The database is asked at most once a second per worker (:class:`DatabaseProbe`), on a thread of
its own with a timeout, so the event loop never waits for an unreachable host and ``/health``
stays the cheap baseline ``make bench`` compares the authenticated path against.
"""

from __future__ import annotations

import asyncio
import time
from concurrent.futures import Future, ThreadPoolExecutor

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ostiary.db import Database
from ostiary.errors import ServiceUnavailable
from ostiary.web.context import services_of
from ostiary.web.errors import RETRY_AFTER_SECONDS, error_body

router = APIRouter(tags=["health"])

PROBE_TTL = 1.0
PROBE_TIMEOUT = 2.0


class DatabaseProbe:
    """Whether the database answers, remembered for ``ttl`` seconds."""

    def __init__(self, database: Database, ttl: float = PROBE_TTL, timeout: float = PROBE_TIMEOUT):
        self._database = database
        self._ttl = ttl
        self._timeout = timeout
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ostiary-health")
        self._checked_at = -ttl
        self._up = True
        self._in_flight: Future[None] | None = None

    def _ping(self) -> None:
        self._database.ping()

    async def up(self) -> bool:
        """The remembered answer, or a fresh one when it is older than the TTL."""
        if time.monotonic() - self._checked_at < self._ttl:
            return self._up
        if self._in_flight is None or self._in_flight.done():
            # At most one ping at a time: a ping stuck on an unreachable host is not repeated
            # behind itself; it reports down once the timeout passes.
            self._in_flight = self._executor.submit(self._ping)
        try:
            await asyncio.wait_for(asyncio.wrap_future(self._in_flight), self._timeout)
            self._up = True
        except Exception:  # any failure to answer SELECT 1 means down, whatever the driver says
            self._up = False
        self._checked_at = time.monotonic()
        return self._up


def _probe_of(request: Request) -> DatabaseProbe:
    probe: DatabaseProbe | None = getattr(request.app.state, "database_probe", None)
    if probe is None:
        probe = request.app.state.database_probe = DatabaseProbe(services_of(request).database)
    return probe


@router.get("/health", summary="Health check")
async def health(request: Request) -> JSONResponse:
    """200 while the server and its database answer; 503 naming the database when it does not."""
    if await _probe_of(request).up():
        return JSONResponse({"status": "ok", "database": "up"})
    unavailable = ServiceUnavailable(RETRY_AFTER_SECONDS)
    return JSONResponse(
        {
            **error_body(unavailable.code, unavailable.message),
            "status": "unavailable",
            "database": "down",
        },
        status_code=503,
        headers={"Retry-After": str(unavailable.retry_after)},
    )
