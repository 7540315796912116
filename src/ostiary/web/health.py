"""``GET /health``: liveness for load balancers; no credentials, no Accept header, no I/O.

It deliberately does not touch the database: it is also the baseline the benchmark compares the
authenticated path against, and a liveness probe should not fail a whole fleet when a database
blips.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

router = APIRouter(tags=["health"])


@router.get("/health", summary="Health check")
async def health() -> JSONResponse:
    """200 while the server process answers."""
    return JSONResponse({"status": "ok"})
