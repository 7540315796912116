"""``GET /metrics`` (web/metrics.py): the counters for a scraper on this machine or one holding
``OSTIARY_METRICS_TOKEN``, and nothing for anyone else; and the request observer counting into
them."""

from __future__ import annotations

from types import SimpleNamespace

import httpx
from fastapi import FastAPI
from prometheus_client import REGISTRY

from ostiary.config import Settings
from ostiary.metrics import SHARED_STATE_FAILURES
from ostiary.web import metrics
from ostiary.web.observed import ObservedRequest
from tests.support.own_loop import run_in_own_loop

TOKEN = "a-scraper-token-of-32-characters"


def _get_from(
    address: str, headers: dict[str, str] | None = None, token: str | None = None
) -> httpx.Response:
    app = FastAPI()
    app.include_router(metrics.router)
    if token is not None:
        app.state.services = SimpleNamespace(settings=Settings(metrics_token=token))

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=(address, 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.get("/metrics", headers=headers)

    return run_in_own_loop(call)


def test_a_local_scraper_reads_the_shared_state_failures() -> None:
    SHARED_STATE_FAILURES.labels(use="rate_limit").inc()
    response = _get_from("127.0.0.1")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert 'ostiary_shared_state_failures_total{use="rate_limit"}' in response.text


def test_a_remote_client_is_told_there_is_nothing_here() -> None:
    assert _get_from("203.0.113.5").status_code == 404
    assert _get_from("::1").status_code == 200


def test_a_relayed_request_is_refused_whatever_its_address() -> None:
    # A proxy on this machine with OSTIARY_TRUSTED_PROXIES unset: every client looks local.
    assert _get_from("127.0.0.1", {"X-Forwarded-For": "203.0.113.5"}).status_code == 404
    assert _get_from("127.0.0.1", {"Forwarded": "for=203.0.113.5"}).status_code == 404
    assert _get_from("::ffff:127.0.0.1").status_code == 200  # a dual-stack listener's loopback
    assert _get_from("not-an-address").status_code == 404


def test_the_token_lets_any_address_read_them_relayed_or_not() -> None:
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert _get_from("203.0.113.5", bearer, token=TOKEN).status_code == 200
    relayed = {**bearer, "X-Forwarded-For": "203.0.113.5"}
    assert _get_from("127.0.0.1", relayed, token=TOKEN).status_code == 200
    assert _get_from("203.0.113.5", {"Authorization": f"bearer {TOKEN}"}, token=TOKEN).is_success


def test_a_wrong_token_is_told_there_is_nothing_here() -> None:
    for header in (
        f"Bearer {TOKEN[:-1]}",
        f"Bearer {TOKEN}x",
        f"Basic {TOKEN}",
        TOKEN,
        "Bearer ",
    ):
        response = _get_from("203.0.113.5", {"Authorization": header}, token=TOKEN)
        assert response.status_code == 404, header
    assert _get_from("203.0.113.5", token=TOKEN).status_code == 404


def test_without_a_configured_token_no_bearer_is_accepted() -> None:
    # An attacker cannot match an unset token with an empty one.
    assert _get_from("203.0.113.5", {"Authorization": "Bearer "}).status_code == 404
    assert _get_from("203.0.113.5", {"Authorization": "Bearer None"}).status_code == 404


def _observed(
    method: str, route: str | None, status: int, duration: float = 0.004
) -> ObservedRequest:
    return ObservedRequest(
        at=0.0,
        method=method,
        route=route,
        status=status,
        duration=duration,
        ip="127.0.0.1",
        user_agent=None,
        request_id="r",
        account_id=None,
        authorization_id=None,
    )


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_requests_are_counted_by_method_route_template_and_status() -> None:
    observe = metrics.RequestMetrics()
    labels = {"method": "GET", "route": "/apps/{app_identity}", "status": "200"}
    before = _value("ostiary_http_requests_total", **labels)
    timed = _value("ostiary_http_request_duration_seconds_bucket", **labels, le="0.005")
    for _ in range(3):
        observe(_observed("GET", "/apps/{app_identity}", 200))
    assert _value("ostiary_http_requests_total", **labels) == before + 3
    assert _value("ostiary_http_request_duration_seconds_bucket", **labels, le="0.005") == timed + 3


def test_unmatched_routes_and_odd_methods_keep_the_labels_bounded() -> None:
    observe = metrics.RequestMetrics()
    odd = {"method": "OTHER", "route": "unmatched", "status": "404"}
    before = _value("ostiary_http_requests_total", **odd)
    for index in range(50):
        observe(_observed(f"BREW{index}", None, 404))
    assert _value("ostiary_http_requests_total", **odd) == before + 50
    assert len(observe._children) == 1  # one child per label set, not per method sent
