"""``GET /metrics`` (web/metrics.py): the counters for a scraper on this machine, and nothing
for anyone else."""

from __future__ import annotations

import httpx
from fastapi import FastAPI

from ostiary.metrics import SHARED_STATE_FAILURES
from ostiary.web import metrics
from tests.support.own_loop import run_in_own_loop


def _get_from(address: str, headers: dict[str, str] | None = None) -> httpx.Response:
    app = FastAPI()
    app.include_router(metrics.router)

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
