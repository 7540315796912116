"""Operations on a real server (two workers, so the metrics are summed across processes):
``GET /metrics`` after real traffic, who may read it (loopback, or the bearer token from any
address, through a trusted proxy too), and the JSON access log on stderr, or off."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from ostiary.security.tokens import TokenKind, mint_token
from tests.support.factories import Factory, UserAccount
from tests.support.server import ServerProcess, start_server

METRICS_TOKEN = "metrics-scraper-token-7f3a9c1e"
REMOTE = "203.0.113.7"  # what the trusted proxy (loopback) says the client is
# A proxy terminating TLS says so; without it a remote client over HTTP gets 403 first.
RELAYED = {"X-Forwarded-For": REMOTE, "X-Forwarded-Proto": "https"}


@pytest.fixture(scope="module")
def watched(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with a metrics token, loopback as a trusted proxy, the access log on stderr."""
    server = start_server(
        tmp_path_factory.mktemp("operations"),
        settings={
            "OSTIARY_METRICS_TOKEN": METRICS_TOKEN,
            "OSTIARY_TRUSTED_PROXIES": "127.0.0.1",
        },
        workers=2,
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def user(watched: ServerProcess) -> Iterator[UserAccount]:
    """An account in that server's database."""
    factory = Factory(watched.data_dir)
    yield factory.account()
    factory.close()


def _sample(text: str, name: str, **labels: str) -> float:
    """The value of one sample of the exposition (0 when it is absent)."""
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return float(sample.value)
    return 0.0


def _metrics(server: ServerProcess, **headers: str) -> httpx.Response:
    return httpx.get(f"{server.url}/metrics", headers=headers, timeout=10)


def _access_lines(server: ServerProcess) -> list[dict[str, Any]]:
    lines = []
    for line in server.log().splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def _lines_of(server: ServerProcess, response: httpx.Response) -> list[dict[str, Any]]:
    """The access lines of one request. A line is written once the response's last byte is
    sent, so the client may read the answer a moment before its line is in the log."""
    request_id = response.headers["request-id"].split(",")[0]
    deadline = time.monotonic() + 10
    while True:
        lines = [line for line in _access_lines(server) if line["request_id"] == request_id]
        if lines or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


class TestMetricsAfterRealTraffic:
    def test_requests_are_counted_by_route_template_and_status(
        self, watched: ServerProcess, user: UserAccount
    ) -> None:
        before = _metrics(watched).text
        labels = {"method": "GET", "route": "/account", "status": "200"}
        with watched.client(user.api_key) as client:
            for _ in range(3):
                assert client.get("/account").status_code == 200
            assert client.get("/apps/no-such-app-3f1c").status_code == 404
        after = _metrics(watched).text
        counted = _sample(after, "ostiary_http_requests_total", **labels)
        assert counted - _sample(before, "ostiary_http_requests_total", **labels) == 3
        assert _sample(after, "ostiary_http_request_duration_seconds_count", **labels) >= 3
        # The app's name is not a label: its route's template is.
        assert 'route="/apps/{app_identity}"' in after
        assert "no-such-app-3f1c" not in after

    def test_a_401_is_counted_by_its_reason(self, watched: ServerProcess) -> None:
        name = "ostiary_auth_failures_total"
        unknown = {"credential": "token", "reason": "unknown_token"}
        before = _sample(_metrics(watched).text, name, **unknown)
        with watched.client(mint_token(TokenKind.API_KEY)) as client:  # well formed, unknown
            assert client.get("/account").status_code == 401
        after = _metrics(watched).text
        assert _sample(after, name, **unknown) - before == 1
        unauthorized = {"method": "GET", "route": "/account", "status": "401"}
        assert _sample(after, "ostiary_http_requests_total", **unauthorized) >= 1

    def test_tokens_issued_are_counted_by_grant(
        self, watched: ServerProcess, user: UserAccount
    ) -> None:
        name = "ostiary_tokens_issued_total"
        before = _metrics(watched).text
        with watched.client(user.api_key) as client:
            assert client.post("/oauth/authorizations", json={"scope": ["read"]}).status_code == 201
        after = _metrics(watched).text
        grant = {"grant": "authorization"}
        assert _sample(after, name, **grant) - _sample(before, name, **grant) == 1


class TestWhoMayReadTheMetrics:
    def test_a_remote_scraper_with_the_token_reads_them_through_the_proxy(
        self, watched: ServerProcess
    ) -> None:
        response = _metrics(watched, **{**RELAYED, "Authorization": f"Bearer {METRICS_TOKEN}"})
        assert response.status_code == 200
        assert "ostiary_http_requests_total" in response.text
        assert response.headers["cache-control"] == "no-store"

    def test_a_wrong_or_missing_token_gets_the_404_of_an_unknown_route(
        self, watched: ServerProcess
    ) -> None:
        unknown = httpx.get(f"{watched.url}/no-such-route", timeout=10)
        refused = [
            _metrics(watched, **RELAYED),
            _metrics(watched, **{**RELAYED, "Authorization": "Bearer wrong"}),
            _metrics(
                watched,
                **{**RELAYED, "Authorization": f"Bearer {METRICS_TOKEN}x"},
            ),
            _metrics(
                watched,
                **{**RELAYED, "Authorization": f"Basic {METRICS_TOKEN}"},
            ),
        ]
        for response in refused:
            assert response.status_code == 404
            assert response.json() == unknown.json()
            assert response.headers["content-type"] == unknown.headers["content-type"]
        assert "ostiary_" not in "".join(response.text for response in refused)

    def test_loopback_needs_no_token(self, watched: ServerProcess) -> None:
        assert _metrics(watched).status_code == 200


class TestAccessLog:
    def test_each_request_gets_one_json_line_with_its_fields(
        self, watched: ServerProcess, user: UserAccount
    ) -> None:
        with watched.client(user.api_key) as client:
            response = client.get("/account", headers={**RELAYED, "User-Agent": "ops-test/1.0"})
        lines = _lines_of(watched, response)
        assert len(lines) == 1
        line = lines[0]
        assert set(line) == {
            "time",
            "request_id",
            "method",
            "route",
            "status",
            "duration_ms",
            "account_id",
            "authorization_id",
            "address",
            "user_agent",
        }
        assert line["method"] == "GET"
        assert line["route"] == "/account"
        assert line["status"] == 200
        assert line["account_id"] == user.id
        assert line["authorization_id"]
        assert line["address"] == REMOTE
        assert line["user_agent"] == "ops-test/1.0"
        assert line["time"].endswith("Z")
        assert 0 < line["duration_ms"] < 10_000
        assert user.api_key not in watched.log()

    def test_a_token_in_the_query_string_never_reaches_the_log(
        self, watched: ServerProcess, user: UserAccount
    ) -> None:
        with watched.client() as client:
            response = client.get(
                f"/apps/secret-app-name?access_token={user.api_key}&other=visible-in-query"
            )
        assert response.status_code == 400
        (line,) = _lines_of(watched, response)
        assert line["route"] == "/apps/{app_identity}"
        assert line["status"] == 400
        log = watched.log()
        for leaked in (user.api_key, "access_token", "visible-in-query", "secret-app-name"):
            assert leaked not in log

    def test_the_metrics_token_is_not_logged(self, watched: ServerProcess) -> None:
        response = _metrics(watched, Authorization=f"Bearer {METRICS_TOKEN}")
        assert _lines_of(watched, response)  # its line is written: the log is complete
        assert METRICS_TOKEN not in watched.log()

    def test_uvicorn_prints_no_access_line_of_its_own(
        self, watched: ServerProcess, user: UserAccount
    ) -> None:
        with watched.client(user.api_key) as client:
            response = client.get("/account", params={"page": "uvicorn-would-print-this"})
        assert _lines_of(watched, response)
        assert "uvicorn-would-print-this" not in watched.log()
        assert '"GET /account' not in watched.log()


def test_access_log_off_silences_it(tmp_path: Path) -> None:
    server = start_server(tmp_path / "quiet", settings={"OSTIARY_ACCESS_LOG": "off"})
    try:
        for _ in range(3):
            httpx.get(f"{server.url}/health", timeout=10)
        with server.client() as client:
            assert client.get("/account").status_code == 401
    finally:
        server.stop()  # a graceful stop: whatever it was going to write is written
    assert "Shutting down" in server.log()
    assert not [line for line in server.log().splitlines() if line.startswith("{")]
    assert "/account" not in server.log()
