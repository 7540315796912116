"""``GET /metrics``: the server's Prometheus metrics (``ostiary.metrics``), for a scraper on the
same machine. Other clients get 404, as if there were nothing here: the counters say how the
deployment is doing (when its rate limit runs per process, say), which is nobody else's
business. A request that came through a proxy is refused whatever its address: a proxy on the
same machine makes every client look local when ``OSTIARY_TRUSTED_PROXIES`` is not set."""

from __future__ import annotations

import ipaddress

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from ostiary.metrics import exposition

router = APIRouter(include_in_schema=False)


def _local(host: str) -> bool:
    """A loopback address, IPv4-mapped ones included (a dual-stack listener's view of 127.0.0.1)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """The metrics in Prometheus' text format, to loopback clients only."""
    relayed = "x-forwarded-for" in request.headers or "forwarded" in request.headers
    if relayed or request.client is None or not _local(request.client.host):
        raise HTTPException(404)  # answered as every unknown route is
    body, content_type = exposition()
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
