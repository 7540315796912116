"""``GET /metrics``: the server's Prometheus metrics (``ostiary.metrics``), for a scraper on the
same machine. Other clients get 404, as if there were nothing here: the counters say how the
deployment is doing, which is nobody else's business. Behind a trusted proxy the client address
is the one the proxy reports, so a request relayed from outside is refused too."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException

from ostiary.metrics import exposition
from ostiary.net import is_loopback

router = APIRouter(include_in_schema=False)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """The metrics in Prometheus' text format, to loopback clients only."""
    if request.client is None or not is_loopback(request.client.host):
        raise HTTPException(404)  # answered as every unknown route is
    body, content_type = exposition()
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})
