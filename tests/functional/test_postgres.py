"""The scale-out backend: a real server on PostgreSQL (127.0.0.1:5432, user postgres).

Skipped with the reason when PostgreSQL is not reachable on a developer's machine; under CI
(``CI`` set) an unreachable server fails instead, so these tests never pass silently there.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from ostiary.tokens.models import Authorization
from tests.support.factories import Factory
from tests.support.server import PASSWORD_WORK_TIMEOUT, ServerProcess, start_server

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _admin_connection() -> object:
    import psycopg

    try:
        return psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs PostgreSQL on 127.0.0.1:5432: {error}")
        pytest.skip(f"PostgreSQL is not reachable on 127.0.0.1:5432 ({error})")


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    import psycopg

    admin = _admin_connection()
    assert isinstance(admin, psycopg.Connection)
    name = f"ostiary_test_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="module")
def pg_server(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("pg"), settings={"OSTIARY_DATABASE_URL": pg_url}, workers=2
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pg_factory(pg_server: ServerProcess, pg_url: str) -> Iterator[Factory]:
    factory = Factory(Path(pg_server.data_dir), database_url=pg_url)
    yield factory
    factory.close()


def test_app_flow_on_postgres(pg_server: ServerProcess, pg_factory: Factory) -> None:
    owner, friend = pg_factory.account(), pg_factory.account()
    with pg_server.client(owner.api_key) as api:
        name = api.post("/apps", json={"region": "eu"}).json()["name"]
        assert api.patch(f"/apps/{name}/config-vars", json={"A": "1"}).json() == {"A": "1"}
        assert (
            api.post(f"/apps/{name}/collaborators", json={"user": friend.email}).status_code == 201
        )
        assert api.post(f"/apps/{name}/addons", json={"plan": "heroku-redis"}).status_code == 201
        versions = [r["version"] for r in api.get(f"/apps/{name}/releases").json()]
        assert versions == [1, 2, 3]
        taken = api.post("/apps", json={"name": name})
        assert taken.status_code == 409
    with pg_server.client(friend.api_key) as api:
        assert api.get(f"/apps/{name}/config-vars").json() == {"A": "1"}
        assert api.delete(f"/apps/{name}").status_code == 403


def test_regenerated_key_is_refused_by_every_worker(
    pg_server: ServerProcess, pg_factory: Factory
) -> None:
    account = pg_factory.account()
    with pg_server.client(account.api_key) as api:
        new_key = api.post("/oauth/authorizations/~/actions/regenerate-tokens").json()[
            "access_token"
        ]["token"]
        # Two workers serve these requests; neither may still accept the old key.
        statuses = {api.get("/account").status_code for _ in range(20)}
    assert statuses == {401}
    with pg_server.client(new_key) as api:
        assert {api.get("/account").status_code for _ in range(20)} == {200}


def test_revoking_a_grandparent_revokes_the_lineage_on_postgres(
    pg_server: ServerProcess, pg_factory: Factory
) -> None:
    """Revocation marks the whole lineage (rows kept) on PostgreSQL as on SQLite."""
    account = pg_factory.account()
    made: list[dict[str, Any]] = []
    token = account.api_key
    for description in ("grandparent", "parent", "grandchild"):
        with pg_server.client(token) as api:
            created = api.post("/oauth/authorizations", json={"description": description})
        assert created.status_code == 201, created.text
        made.append(created.json())
        token = made[-1]["access_token"]["token"]
    with pg_server.client(account.api_key) as api:
        assert api.delete(f"/oauth/authorizations/{made[0]['id']}").status_code == 200
    for authorization in made:
        with pg_server.client(authorization["access_token"]["token"]) as api:
            assert api.get("/account").status_code == 401
    ids = [authorization["id"] for authorization in made]
    with pg_factory.database.unit_of_work(write=False) as session:
        revoked = session.scalars(
            select(Authorization.revoked_at).where(Authorization.id.in_(ids))
        ).all()
    assert len(revoked) == 3
    assert None not in revoked


def test_concurrent_config_changes_get_distinct_release_numbers(
    pg_server: ServerProcess, pg_factory: Factory
) -> None:
    account = pg_factory.account()
    with pg_server.client(account.api_key) as api:
        name = api.post("/apps").json()["name"]

    def change(n: int) -> int:
        with pg_server.client(account.api_key) as client:
            return client.patch(f"/apps/{name}/config-vars", json={f"K{n}": "v"}).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(change, range(16)))
    assert statuses == [200] * 16
    with pg_server.client(account.api_key) as api:
        versions = sorted(r["version"] for r in api.get(f"/apps/{name}/releases").json())
        assert versions == list(range(1, 18))
        assert len(api.get(f"/apps/{name}/config-vars").json()) == 16


def test_postgres_holds_only_token_hashes(pg_url: str, pg_factory: Factory) -> None:
    import psycopg

    account = pg_factory.account()
    with psycopg.connect(pg_url.replace("+psycopg", "")) as db:
        rows = db.execute("SELECT token_hash FROM access_tokens").fetchall()
        dump = str(db.execute("SELECT * FROM access_tokens").fetchall())
        dump += str(db.execute("SELECT * FROM events").fetchall())
    assert rows
    assert account.api_key not in dump


def test_sqlite_serializes_concurrent_writers_too(server: ServerProcess, factory: Factory) -> None:
    account = factory.account()
    with server.client(account.api_key) as api:
        name = api.post("/apps").json()["name"]

    def change(n: int) -> httpx.Response:
        with server.client(account.api_key) as client:
            return client.patch(f"/apps/{name}/config-vars", json={f"K{n}": "v"})

    with ThreadPoolExecutor(max_workers=8) as pool:
        responses = list(pool.map(change, range(12)))
    assert [r.status_code for r in responses] == [200] * 12
    with server.client(account.api_key) as api:
        versions = sorted(r["version"] for r in api.get(f"/apps/{name}/releases").json())
    assert versions == list(range(1, 14))


def _client_and_grant(server: ServerProcess, api_key: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """A confidential client and an authorization granted to it (with a code)."""
    with server.client(api_key) as api:
        client = api.post(
            "/oauth/clients", json={"name": "PG", "redirect_uri": "https://example.com/cb"}
        ).json()
        granted = api.post("/oauth/authorizations", json={"client": client["id"]}).json()
    return client, granted


def test_oauth_flow_on_postgres(pg_server: ServerProcess, pg_factory: Factory) -> None:
    from tests.support.factories import PASSWORD
    from tests.support.server import API_HEADERS

    account = pg_factory.account()
    client, granted = _client_and_grant(pg_server, account.api_key)

    def exchange(body: dict[str, Any]) -> httpx.Response:
        return httpx.post(f"{pg_server.url}/oauth/tokens", headers=API_HEADERS, json=body)

    code = {
        "grant": {"type": "authorization_code", "code": granted["grant"]["code"]},
        "client": {"secret": client["secret"]},
    }
    first = exchange(code)
    assert first.status_code == 201
    assert exchange(code).status_code == 400  # replay revokes
    with pg_server.client(first.json()["access_token"]["token"]) as revoked:
        assert revoked.get("/account").status_code == 401

    login = httpx.post(
        f"{pg_server.url}/oauth/authorizations",
        headers=API_HEADERS,
        auth=(account.email, PASSWORD),
        json={"expires_in": "2592000"},
        timeout=PASSWORD_WORK_TIMEOUT,
    )
    assert login.status_code == 201
    token = login.json()["access_token"]["token"]
    with pg_server.client(token) as api:
        assert api.delete("/oauth/sessions/~").status_code == 200
        assert api.get("/account").status_code == 401


def test_refresh_rotation_on_postgres(pg_server: ServerProcess, pg_factory: Factory) -> None:
    from tests.support.server import API_HEADERS

    account = pg_factory.account()
    client, granted = _client_and_grant(pg_server, account.api_key)
    refresh_token = granted["refresh_token"]["token"]
    for _ in range(3):
        response = httpx.post(
            f"{pg_server.url}/oauth/tokens",
            headers=API_HEADERS,
            json={
                "grant": {"type": "refresh_token"},
                "refresh_token": {"token": refresh_token},
                "client": {"secret": client["secret"]},
            },
        )
        assert response.status_code == 201
        refresh_token = response.json()["refresh_token"]["token"]


def test_client_credentials_and_introspection_on_postgres(
    pg_server: ServerProcess, pg_factory: Factory
) -> None:
    """The direct-transaction and prepared-lookup paths (ostiary.prepared) on psycopg."""
    account = pg_factory.account()
    with pg_server.client(account.api_key) as api:
        client = api.post(
            "/oauth/clients",
            json={
                "name": "Worker",
                "redirect_uri": "https://example.com/cb",
                "client_credentials_scopes": ["read", "identity"],
            },
        ).json()
    auth = (client["id"], client["secret"])
    tokens = [
        httpx.post(
            f"{pg_server.url}/oauth/token", data={"grant_type": "client_credentials"}, auth=auth
        )
        for _ in range(3)
    ]
    assert [t.status_code for t in tokens] == [200, 200, 200]
    access_token = tokens[0].json()["access_token"]
    assert tokens[0].json()["scope"] == "identity read"
    with pg_server.client(access_token) as api:
        assert api.get("/account").json()["email"] == account.email

    def introspect(token: str) -> dict[str, Any]:
        response = httpx.post(f"{pg_server.url}/oauth/introspect", data={"token": token}, auth=auth)
        assert response.status_code == 200
        body: dict[str, Any] = response.json()
        return body

    described = introspect(access_token)
    assert described["active"] is True
    assert described["username"] == account.email
    assert described["client_id"] == client["id"]
    assert described["exp"] - described["iat"] == 8 * 3600
    revoked = httpx.post(f"{pg_server.url}/oauth/revoke", data={"token": access_token}, auth=auth)
    assert revoked.status_code == 200
    assert introspect(access_token) == {"active": False}
    assert introspect(tokens[1].json()["access_token"])["active"] is True
