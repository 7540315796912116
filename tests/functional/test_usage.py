"""Usage per credential on a real server (issue 14): a token used from two addresses (through
a trusted proxy's headers, from loopback) and three user agents shows exactly those counts and
addresses in ``GET /oauth/authorizations/{id}/usage``, counted by two workers; only its account
may read it; and nothing counted is lost when the server stops gracefully."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.factories import Factory, UserAccount
from tests.support.server import ServerProcess, start_server

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
HEROKU = "heroku/10.1.0 linux-x64 node-v20.0.0"
CURL = "curl/8.5.0"
SETTINGS = {"OSTIARY_TRUSTED_PROXIES": "127.0.0.1", "OSTIARY_USAGE_FLUSH_SECONDS": "0.3"}


@pytest.fixture(scope="module")
def usage_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(tmp_path_factory.mktemp("usage"), settings=SETTINGS, workers=2)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def usage_factory(usage_server: ServerProcess) -> Iterator[Factory]:
    made = Factory(Path(usage_server.data_dir))
    yield made
    made.close()


def _from(client: httpx.Client, path: str, address: str, agent: str) -> int:
    headers = {"X-Forwarded-For": address, "X-Forwarded-Proto": "https", "User-Agent": agent}
    return client.get(path, headers=headers).status_code


def _usage(server: ServerProcess, reader: str, authorization: str, total: int) -> Any:
    """The usage once ``total`` requests are flushed (the workers flush every 0.3 s)."""
    deadline = time.monotonic() + 30
    with server.client(reader) as client:
        while True:
            response = client.get(f"/oauth/authorizations/{authorization}/usage")
            assert response.status_code == 200, response.text
            body = response.json()
            if body["total"] >= total or time.monotonic() > deadline:
                return body
            time.sleep(0.2)


def _use_token(server: ServerProcess, token: str) -> None:
    with server.client(token) as client:
        for _ in range(3):
            assert _from(client, "/account", "203.0.113.10", HEROKU) == 200
        for _ in range(2):
            assert _from(client, "/account", "198.51.100.20", FIREFOX) == 200
        assert _from(client, "/apps", "203.0.113.10", CURL) == 200
        assert _from(client, "/apps/no-such-app", "203.0.113.10", CURL) == 404


def test_a_tokens_usage_shows_exactly_its_requests_and_sources(
    usage_server: ServerProcess, usage_factory: Factory
) -> None:
    account = usage_factory.account("usage")
    authorization, token = usage_factory.token(account, ["global"])
    _use_token(usage_server, token)
    body = _usage(usage_server, account.api_key, authorization, 7)
    time.sleep(1)  # a late flush would show as more than 7
    body = _usage(usage_server, account.api_key, authorization, 7)

    assert body["authorization"] == {"id": authorization}
    assert body["total"] == 7
    assert body["status_classes"] == {"2xx": 6, "4xx": 1}
    by_group: dict[tuple[str, str], int] = {}
    for bucket in body["hours"]:
        key = (bucket["route_group"], bucket["status_class"])
        by_group[key] = by_group.get(key, 0) + bucket["count"]
    assert by_group == {("account", "2xx"): 5, ("apps", "2xx"): 1, ("apps", "4xx"): 1}
    addresses = {a["address"]: a["count"] for a in body["addresses"]}
    assert addresses == {"203.0.113.10": 5, "198.51.100.20": 2}
    agents = {a["user_agent"]: (a["family"], a["count"]) for a in body["user_agents"]}
    assert agents == {HEROKU: ("heroku", 3), FIREFOX: ("Firefox", 2), CURL: ("curl", 2)}
    for source in body["addresses"] + body["user_agents"]:
        assert source["first_seen"] <= source["last_seen"]
        assert source["last_seen"].endswith("Z")


def test_requests_without_a_credential_or_with_another_are_not_counted(
    usage_server: ServerProcess, usage_factory: Factory
) -> None:
    account = usage_factory.account("usage")
    authorization, token = usage_factory.token(account, ["global"])
    with usage_server.client() as anonymous:
        assert anonymous.get("/account").status_code == 401
    with usage_server.client(token) as client:
        assert client.get("/account").status_code == 200
    _usage(usage_server, account.api_key, authorization, 1)
    time.sleep(1)
    assert _usage(usage_server, account.api_key, authorization, 1)["total"] == 1


def test_a_revoked_tokens_tries_are_its_usage(
    usage_server: ServerProcess, usage_factory: Factory
) -> None:
    account = usage_factory.account("usage")
    authorization, token = usage_factory.token(account, ["global"])
    with usage_server.client(account.api_key) as owner:
        assert owner.delete(f"/oauth/authorizations/{authorization}").status_code == 200
    with usage_server.client(token) as client:
        assert client.get("/account").status_code == 401
    body = _usage(usage_server, account.api_key, authorization, 1)
    assert body["status_classes"] == {"4xx": 1}


def test_only_the_owner_reads_a_credentials_usage(
    usage_server: ServerProcess, usage_factory: Factory
) -> None:
    owner: UserAccount = usage_factory.account("owner")
    stranger = usage_factory.account("stranger")
    authorization, _ = usage_factory.token(owner, ["global"])
    _, narrow = usage_factory.token(owner, ["identity"])
    with usage_server.client(stranger.api_key) as client:
        response = client.get(f"/oauth/authorizations/{authorization}/usage")
        assert response.status_code == 404
        assert response.json()["id"] == "not_found"
    with usage_server.client(narrow) as client:
        response = client.get(f"/oauth/authorizations/{authorization}/usage")
        assert response.status_code == 403
    with usage_server.client(owner.api_key) as client:
        assert client.get("/oauth/authorizations/~/usage").status_code == 200
        bad = client.get(f"/oauth/authorizations/{authorization}/usage", params={"since": "soon"})
        assert bad.status_code == 422
        assert bad.json()["id"] == "invalid_params"
        reversed_window = client.get(
            f"/oauth/authorizations/{authorization}/usage",
            params={"since": "2026-12-01T10:00:00Z", "until": "2026-12-01T09:00:00Z"},
        )
        assert reversed_window.status_code == 422


def test_nothing_counted_is_lost_on_a_graceful_stop(tmp_path: Path) -> None:
    # Flushes an hour apart: only the flush at the stop can write these requests.
    settings = {"OSTIARY_USAGE_FLUSH_SECONDS": "3600"}
    server = start_server(tmp_path / "stop", settings=settings, workers=2)
    factory = Factory(Path(server.data_dir))
    try:
        account = factory.account("stop")
        authorization, token = factory.token(account, ["global"])
        with server.client(token) as client:
            for _ in range(9):
                assert client.get("/account").status_code == 200
        # A graceful stop (SIGTERM), given time on a loaded machine: ServerProcess.stop kills
        # after 10 s, which would be a crash, not a graceful stop.
        assert server.process is not None
        server.process.terminate()
        assert server.process.wait(timeout=120) == 0, server.log()
        server = start_server(tmp_path / "stop", settings=settings)
        with server.client(account.api_key) as client:
            body = client.get(f"/oauth/authorizations/{authorization}/usage").json()
        assert body["total"] == 9
        assert [a["count"] for a in body["addresses"]] == [9]
    finally:
        server.stop()
        factory.close()


def test_a_client_credentials_clients_usage_is_its_owners_to_read(
    usage_server: ServerProcess, usage_factory: Factory
) -> None:
    owner = usage_factory.account("machine-owner")
    with usage_server.client(owner.api_key) as api:
        client = api.post(
            "/oauth/clients",
            json={
                "name": "machine",
                "redirect_uri": "https://example.com/cb",
                "client_credentials_scopes": ["identity"],
            },
        ).json()
    issued = httpx.post(
        f"{usage_server.url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client["id"], client["secret"]),
    )
    assert issued.status_code == 200, issued.text
    with usage_server.client(issued.json()["access_token"]) as machine:
        for _ in range(3):
            assert _from(machine, "/account", "192.0.2.9", "machine/1.0") == 200
    with usage_server.client(owner.api_key) as api:
        listed = api.get("/oauth/authorizations").json()
    [authorization] = [a["id"] for a in listed if (a["client"] or {}).get("id") == client["id"]]
    body = _usage(usage_server, owner.api_key, authorization, 3)
    assert body["total"] == 3
    assert [(a["address"], a["count"]) for a in body["addresses"]] == [("192.0.2.9", 3)]
