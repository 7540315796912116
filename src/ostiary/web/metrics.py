"""``GET /metrics``: the server's Prometheus metrics (``ostiary.metrics``), and the request
observer that counts every request into them.

Who may read them: a scraper on the same machine, or one at any address that sends
``Authorization: Bearer <OSTIARY_METRICS_TOKEN>``. Everyone else gets 404, as if there were
nothing here: the counters say how the deployment is doing, which is nobody else's business,
and a wrong or missing token is answered exactly as an unknown route so that the route's
existence is not revealed. Without the token, a request that came through a proxy is refused
whatever its address: a proxy on the same machine makes every client look local when
``OSTIARY_TRUSTED_PROXIES`` is not set. With the right token a relayed request is served: that
is what the token is for.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress

from fastapi import APIRouter, Request
from fastapi.responses import Response
from prometheus_client import Counter, Histogram
from starlette.exceptions import HTTPException

from ostiary.metrics import REQUEST_DURATION, REQUESTS, exposition
from ostiary.web.observed import ObservedRequest

router = APIRouter(include_in_schema=False)

_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
UNMATCHED = "unmatched"  # the route label of a request no route matched (a 404, a refused Host)


def _local(host: str) -> bool:
    """A loopback address, IPv4-mapped ones included (a dual-stack listener's view of 127.0.0.1)."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback


def _configured_token(request: Request) -> bytes | None:
    services = getattr(request.app.state, "services", None)
    token = services.settings.metrics_token if services is not None else None
    return token.get_secret_value().encode() if token is not None else None


def _digest(value: bytes) -> bytes:
    return hashlib.sha256(value).digest()


def _presents_token(request: Request) -> bool:
    """Whether the request carries the configured bearer token (compared in constant time)."""
    expected = _configured_token(request)
    if expected is None:
        return False
    scheme, _, presented = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    # Digests of equal length: compare_digest would otherwise reveal the token's length.
    return hmac.compare_digest(_digest(presented.strip().encode()), _digest(expected))


def _from_local_scraper(request: Request) -> bool:
    relayed = "x-forwarded-for" in request.headers or "forwarded" in request.headers
    return not relayed and request.client is not None and _local(request.client.host)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """The metrics in Prometheus' text format, to loopback clients and token holders only."""
    if not (_from_local_scraper(request) or _presents_token(request)):
        raise HTTPException(404)  # answered as every unknown route is
    body, content_type = exposition()
    return Response(body, media_type=content_type, headers={"Cache-Control": "no-store"})


class RequestMetrics:
    """A request observer (``Services.request_observers``): counts each finished request and
    its duration by method, route template and status.

    Labels are resolved once per (method, route, status) and the children kept: resolving
    them takes a lock and a few dictionary look-ups, every request. The keys are bounded as the
    labels are (route templates, the standard methods, statuses), so the cache is too.
    """

    __slots__ = ("_children",)

    def __init__(self) -> None:
        self._children: dict[tuple[str, str | None, int], tuple[Counter, Histogram]] = {}

    def __call__(self, observed: ObservedRequest) -> None:
        """Count one finished request."""
        method = observed.method if observed.method in _METHODS else "OTHER"
        key = (method, observed.route, observed.status)
        children = self._children.get(key)
        if children is None:
            labels = {"method": method, "route": observed.route or UNMATCHED}
            labels["status"] = str(observed.status)
            children = (REQUESTS.labels(**labels), REQUEST_DURATION.labels(**labels))
            self._children[key] = children
        children[0].inc()
        children[1].observe(observed.duration)
