"""A two-worker server sharing its state through Redis (OSTIARY_REDIS_URL): one rate-limit pool
for both workers, and what each use does while Redis is away (docs/deployment.md): the API stays
up, password and client-secret checks are refused with 503 instead of going unthrottled, and
everything comes back by itself with Redis."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.oauth_flow import register
from tests.support.private_redis import PrivateRedis
from tests.support.server import NO_REFILL, ServerProcess, start_server

CAPACITY = 1000


@pytest.fixture(scope="module")
def redis_for_server() -> Iterator[PrivateRedis]:
    made = PrivateRedis()
    made.start()
    yield made
    made.destroy()


@pytest.fixture(scope="module")
def shared_server(
    redis_for_server: PrivateRedis, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("shared-state"),
        workers=2,
        settings={
            "OSTIARY_REDIS_URL": redis_for_server.url,
            "OSTIARY_RATE_LIMIT_CAPACITY": str(CAPACITY),
            **NO_REFILL,
        },
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def shared_factory(shared_server: ServerProcess) -> Iterator[Factory]:
    made = Factory(shared_server.data_dir)
    yield made
    made.close()


@pytest.fixture
def owner(shared_factory: Factory) -> UserAccount:
    return shared_factory.account("shared")


def _fresh_connection_get(server: ServerProcess, token: str) -> httpx.Response:
    # A new connection each time, so the kernel hands requests to either worker.
    with server.client(token) as api:
        return api.get("/account")


def test_both_workers_spend_one_pool(shared_server: ServerProcess, owner: UserAccount) -> None:
    remaining = []
    for _ in range(30):
        response = _fresh_connection_get(shared_server, owner.api_key)
        assert response.status_code == 200
        remaining.append(int(response.headers["RateLimit-Remaining"]))
    # Exact across workers: each request one less, whichever worker answered it.
    assert remaining == list(range(CAPACITY - 1, CAPACITY - 31, -1))


def _client_credentials(server: ServerProcess, client: dict[str, Any]) -> httpx.Response:
    return httpx.post(
        f"{server.url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client["id"], client["secret"]),
        timeout=30,
    )


def _password_login(server: ServerProcess, owner: UserAccount) -> httpx.Response:
    with server.client() as api:
        return api.post(
            "/oauth/authorizations",
            json={"description": "heroku login -i"},
            auth=(owner.email, PASSWORD),
        )


def _failures(server: ServerProcess, use: str) -> float:
    text = httpx.get(f"{server.url}/metrics", timeout=10).text
    for line in text.splitlines():
        if line.startswith(f'ostiary_shared_state_failures_total{{use="{use}"}}'):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_without_redis_the_api_stays_up_and_secret_checks_fail_closed(
    shared_server: ServerProcess, redis_for_server: PrivateRedis, owner: UserAccount
) -> None:
    client = register(shared_server, owner.api_key, client_credentials_scopes=["identity"])
    assert _client_credentials(shared_server, client).status_code == 200
    throttle_failures = _failures(shared_server, "throttle")

    redis_for_server.stop()
    try:
        for _ in range(4):  # both workers, whatever the breaker's state
            assert _fresh_connection_get(shared_server, owner.api_key).status_code == 200

            token = _client_credentials(shared_server, client)
            assert token.status_code == 503
            assert token.json()["error"] == "temporarily_unavailable"
            assert int(token.headers["Retry-After"]) >= 1

            login = _password_login(shared_server, owner)
            assert login.status_code == 503
            assert login.json()["id"] == "service_unavailable"
            assert "cannot be reached" in login.json()["message"]
        assert _failures(shared_server, "throttle") >= throttle_failures + 8
        assert _failures(shared_server, "rate_limit") >= 4
        log = shared_server.log()
        assert "shared state unavailable for rate_limit" in log
        assert "fail open" in log
        assert "shared state unavailable for throttle" in log
        assert "Traceback" not in log
    finally:
        redis_for_server.start()

    # Each worker's breaker tries Redis again within its back-off (at most 8 s).
    deadline = time.monotonic() + 20
    while _client_credentials(shared_server, client).status_code != 200:
        assert time.monotonic() < deadline, "client authentication did not come back with Redis"
        time.sleep(0.2)
    while _password_login(shared_server, owner).status_code != 201:
        assert time.monotonic() < deadline, "password logins did not come back with Redis"
        time.sleep(0.2)
    assert "shared state for throttle is back" in shared_server.log()
