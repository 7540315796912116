"""The /oauth/* Platform API: authorizations, clients, tokens and sessions, over HTTP."""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.schema import assert_matches_heroku
from tests.support.server import API_HEADERS, PASSWORD_WORK_TIMEOUT, ServerProcess

REDACTED = re.compile(r"^[a-z]{4}_\w{4}\*{10}\w{4}$")
CALLBACK = "https://example.com/oauth/callback"


@pytest.fixture
def api(server: ServerProcess, account: UserAccount) -> Iterator[httpx.Client]:
    with server.client(account.api_key) as client:
        yield client


def _events(server: ServerProcess, account_id: str | None) -> list[str]:
    with sqlite3.connect(server.data_dir / "ostiary.db") as db:
        rows = db.execute(
            "SELECT action FROM events WHERE actor_id IS ? ORDER BY created_at, rowid",
            (account_id,),
        ).fetchall()
    return [row[0] for row in rows]


def _login(server: ServerProcess, email: str, password: str, **body: Any) -> httpx.Response:
    """What `heroku login -i` sends."""
    return httpx.post(
        f"{server.url}/oauth/authorizations",
        headers=API_HEADERS,
        auth=(email, password),
        timeout=PASSWORD_WORK_TIMEOUT,
        json={
            "description": "Heroku CLI login from host",
            "expires_in": 2592000,
            "scope": ["global"],
            **body,
        },
    )


def _status(server: ServerProcess, token: str, path: str = "/account") -> int:
    with server.client(token) as client:
        return client.get(path).status_code


def _matches_redacted(token: str, shown: str) -> bool:
    """The heroku CLI's logout test: prefix and suffix around exactly ten stars."""
    index = shown.index("*" * 10)
    return token.startswith(shown[:index]) and token.endswith(shown[index + 10 :])


class TestAuthorizations:
    def test_create_as_the_cli_sends_it(self, api: httpx.Client, account: UserAccount) -> None:
        response = api.post(
            "/oauth/authorizations",
            json={"description": "CI deploys", "expires_in": "2592000", "scope": ["read"]},
        )
        assert response.status_code == 201
        body = response.json()
        assert_matches_heroku("oauth-authorization", body)
        assert body["scope"] == ["read"]
        assert body["description"] == "CI deploys"
        assert 2591990 <= body["access_token"]["expires_in"] <= 2592000
        assert body["access_token"]["token"].startswith("osta_")
        assert body["user"]["email"] == account.email

    def test_missing_scope_means_global_and_null_expiry_means_never(
        self, api: httpx.Client
    ) -> None:
        body = api.post("/oauth/authorizations", json={"expires_in": None}).json()
        assert body["scope"] == ["global"]
        assert body["access_token"]["expires_in"] is None

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"expires_in": "soon"}, "expires_in"),
            ({"expires_in": -5}, "expires_in"),
            ({"scope": ["root"]}, "scope"),
            ({"scope": []}, "scope"),
        ],
    )
    def test_bad_input_is_422_naming_the_field(
        self, api: httpx.Client, body: dict[str, Any], field: str
    ) -> None:
        response = api.post("/oauth/authorizations", json=body)
        assert response.status_code == 422
        assert response.json()["id"] == "invalid_params"
        assert field in response.json()["message"]

    def test_list_redacts_and_info_update_delete(
        self, api: httpx.Client, server: ServerProcess
    ) -> None:
        created = api.post("/oauth/authorizations", json={"description": "to list"}).json()
        token = created["access_token"]["token"]
        listed = api.get("/oauth/authorizations").json()
        mine = next(item for item in listed if item["id"] == created["id"])
        assert REDACTED.match(mine["access_token"]["token"])
        assert _matches_redacted(token, mine["access_token"]["token"])
        assert all(isinstance(item["scope"], list) for item in listed)
        for item in listed:
            assert_matches_heroku("oauth-authorization", item)
        info = api.get(f"/oauth/authorizations/{created['id']}").json()
        assert info["access_token"]["token"] == mine["access_token"]["token"]
        updated = api.patch(
            f"/oauth/authorizations/{created['id']}", json={"description": "renamed"}
        )
        assert updated.json()["description"] == "renamed"
        deleted = api.delete(f"/oauth/authorizations/{created['id']}")
        assert deleted.status_code == 200
        assert deleted.json()["id"] == created["id"]
        assert _status(server, token) == 401
        assert api.get(f"/oauth/authorizations/{created['id']}").status_code == 404

    def test_api_key_is_not_listed_and_cannot_be_deleted(self, api: httpx.Client) -> None:
        key_id = api.get("/oauth/authorizations/~").json()["id"]
        assert key_id not in [item["id"] for item in api.get("/oauth/authorizations").json()]
        response = api.delete("/oauth/authorizations/~")
        assert response.status_code == 403

    def test_regenerate_kills_the_old_token_at_once(
        self, api: httpx.Client, server: ServerProcess
    ) -> None:
        created = api.post(
            "/oauth/authorizations", json={"scope": ["read"], "expires_in": 3600}
        ).json()
        old = created["access_token"]["token"]
        regenerated = api.post(
            f"/oauth/authorizations/{created['id']}/actions/regenerate-tokens"
        ).json()
        new = regenerated["access_token"]["token"]
        assert new != old
        assert regenerated["scope"] == ["read"]
        assert 3500 <= regenerated["access_token"]["expires_in"] <= 3600
        assert _status(server, old, "/apps") == 401
        assert _status(server, new, "/apps") == 200

    def test_expired_authorizations_stay_listed_marked_and_refused(
        self, api: httpx.Client, server: ServerProcess, factory: Factory, account: UserAccount
    ) -> None:
        authorization_id, token = factory.token(
            account, ["read"], expires_at=datetime.now(UTC) - timedelta(minutes=1)
        )
        listed = {item["id"]: item for item in api.get("/oauth/authorizations").json()}
        assert listed[authorization_id]["expired"] is True
        assert listed[authorization_id]["access_token"]["expires_in"] == 0
        assert _status(server, token, "/apps") == 401


class TestScopeEscalation:
    @pytest.mark.parametrize(
        ("held", "wanted", "allowed"),
        [
            (["read"], ["global"], False),
            (["read"], ["write"], False),
            (["identity"], ["read"], False),
            (["write"], ["read"], True),
            (["read"], ["read"], True),
            (["write-protected"], ["read-protected"], True),
            (["create-apps"], ["write"], False),
        ],
    )
    def test_new_authorization_never_wider_than_its_creator(
        self,
        server: ServerProcess,
        factory: Factory,
        account: UserAccount,
        held: list[str],
        wanted: list[str],
        allowed: bool,
    ) -> None:
        _, token = factory.token(account, held)
        with server.client(token) as client:
            response = client.post("/oauth/authorizations", json={"scope": wanted})
        if allowed:
            assert response.status_code == 201
            assert response.json()["scope"] == wanted
        else:
            assert response.status_code == 403
            assert response.json()["id"] == "forbidden"

    def test_a_read_token_cannot_list_or_manage_authorizations(
        self, server: ServerProcess, factory: Factory, account: UserAccount
    ) -> None:
        _, token = factory.token(account, ["read"])
        with server.client(token) as client:
            assert client.get("/oauth/authorizations").status_code == 403
            assert (
                client.post("/oauth/authorizations/~/actions/regenerate-tokens").status_code == 403
            )


class TestPasswordLogin:
    def test_login_creates_a_global_authorization_and_a_session(
        self, server: ServerProcess, account: UserAccount
    ) -> None:
        response = _login(server, account.email.upper(), PASSWORD)
        assert response.status_code == 201
        body = response.json()
        assert body["user"]["email"] == account.email
        assert body["scope"] == ["global"]
        assert body["session"]["id"]
        assert 2591990 <= body["access_token"]["expires_in"] <= 2592000
        token = body["access_token"]["token"]
        with server.client(token) as client:
            sessions = client.get("/oauth/sessions").json()
        assert [s["id"] for s in sessions] == [body["session"]["id"]]
        assert sessions[0]["description"] == "Heroku CLI login from host"
        assert "auth:password:success" in _events(server, account.id)

    def test_wrong_password_is_401_and_recorded(
        self, server: ServerProcess, account: UserAccount
    ) -> None:
        response = _login(server, account.email, "not the password")
        assert response.status_code == 401
        assert response.json()["id"] == "unauthorized"
        assert "auth:password:failure" in _events(server, account.id)
        unknown = _login(server, "nobody-here@example.com", "whatever it is")
        assert unknown.status_code == 401

    def test_password_works_on_no_other_route(
        self, server: ServerProcess, account: UserAccount
    ) -> None:
        for method, path in [
            ("GET", "/account"),
            ("GET", "/oauth/authorizations"),
            ("POST", "/apps"),
        ]:
            response = httpx.request(
                method, f"{server.url}{path}", headers=API_HEADERS, auth=(account.email, PASSWORD)
            )
            assert response.status_code == 401, path

    def test_logout_as_the_cli_does_it(self, server: ServerProcess, account: UserAccount) -> None:
        token = _login(server, account.email, PASSWORD).json()["access_token"]["token"]
        with server.client(token) as client:
            listed = client.get("/oauth/authorizations").json()
            current = [a for a in listed if _matches_redacted(token, a["access_token"]["token"])]
            assert len(current) == 1
            api_key = client.get("/oauth/authorizations/~").json()["access_token"]["token"]
            assert not _matches_redacted(token, api_key)
            assert client.delete("/oauth/sessions/~").status_code == 200
        assert _status(server, token) == 401
        assert _status(server, account.api_key) == 200

    def test_session_of_a_token_without_one_is_404_session(self, api: httpx.Client) -> None:
        response = api.delete("/oauth/sessions/~")
        assert response.status_code == 404
        assert response.json()["resource"] == "session"


def _client(api: httpx.Client, **extra: Any) -> dict[str, Any]:
    response = api.post(
        "/oauth/clients", json={"name": "Deployer", "redirect_uri": CALLBACK, **extra}
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def _exchange(server: ServerProcess, **body: Any) -> httpx.Response:
    return httpx.post(f"{server.url}/oauth/tokens", headers=API_HEADERS, json=body)


class TestClients:
    def test_create_shows_the_secret_once(self, api: httpx.Client, server: ServerProcess) -> None:
        created = _client(api)
        assert_matches_heroku("oauth-client", created)
        assert created["secret"].startswith("ostc_")
        assert created["client_type"] == "confidential"
        assert created["redirect_uris"] == [CALLBACK]
        listed = api.get("/oauth/clients").json()
        assert [c["id"] for c in listed] == [created["id"]]
        assert "secret" not in listed[0]
        public = httpx.get(f"{server.url}/oauth/clients/{created['id']}", headers=API_HEADERS)
        assert public.status_code == 200
        assert "secret" not in public.json()
        assert public.json()["name"] == "Deployer"

    @pytest.mark.parametrize(
        "uri",
        [
            "http://example.com/cb",
            "https://example.com/cb#frag",
            "javascript:alert(1)",
            "/relative/path",
            "ftp://example.com/cb",
        ],
    )
    def test_unsafe_redirect_uris_are_refused(self, api: httpx.Client, uri: str) -> None:
        response = api.post("/oauth/clients", json={"name": "Bad", "redirect_uri": uri})
        assert response.status_code == 422
        assert response.json()["id"] == "invalid_params"

    def test_loopback_http_and_several_uris(self, api: httpx.Client) -> None:
        created = _client(
            api,
            redirect_uri="http://127.0.0.1:8080/cb",
            redirect_uris=["http://[::1]:9/cb", "https://app.example.com/cb"],
        )
        assert created["redirect_uri"] == "http://127.0.0.1:8080/cb"
        assert len(created["redirect_uris"]) == 3

    def test_public_client_has_no_secret_and_no_client_credentials(self, api: httpx.Client) -> None:
        created = _client(api, client_type="public")
        assert created["secret"] is None
        assert (
            api.post(f"/oauth/clients/{created['id']}/actions/rotate-credentials").status_code
            == 422
        )
        refused = api.post(
            "/oauth/clients",
            json={
                "name": "CLI",
                "redirect_uri": CALLBACK,
                "client_type": "public",
                "client_credentials_scopes": ["read"],
            },
        )
        assert refused.status_code == 422

    def test_update_and_other_accounts_cannot_touch_it(
        self, api: httpx.Client, server: ServerProcess, other_account: UserAccount
    ) -> None:
        created = _client(api)
        renamed = api.patch(f"/oauth/clients/{created['id']}", json={"name": "Renamed"}).json()
        assert renamed["name"] == "Renamed"
        with server.client(other_account.api_key) as stranger:
            assert (
                stranger.patch(f"/oauth/clients/{created['id']}", json={"name": "x"}).status_code
                == 404
            )
            assert stranger.delete(f"/oauth/clients/{created['id']}").status_code == 404

    def test_rotation_kills_the_old_secret(self, api: httpx.Client, server: ServerProcess) -> None:
        created = _client(api)
        grant = api.post(
            "/oauth/authorizations", json={"client": created["id"], "scope": ["read"]}
        ).json()
        rotated = api.post(f"/oauth/clients/{created['id']}/actions/rotate-credentials").json()
        assert rotated["secret"] != created["secret"]
        old = _exchange(
            server,
            grant={"type": "authorization_code", "code": grant["grant"]["code"]},
            client={"secret": created["secret"]},
        )
        assert old.status_code == 401
        new = _exchange(
            server,
            grant={"type": "authorization_code", "code": grant["grant"]["code"]},
            client={"secret": rotated["secret"]},
        )
        assert new.status_code == 201

    def test_deleting_a_client_revokes_its_authorizations(
        self, api: httpx.Client, server: ServerProcess
    ) -> None:
        created = _client(api)
        granted = api.post(
            "/oauth/authorizations", json={"client": created["id"], "scope": ["read"]}
        ).json()
        token = granted["access_token"]["token"]
        assert _status(server, token, "/apps") == 200
        assert api.delete(f"/oauth/clients/{created['id']}").status_code == 200
        assert _status(server, token, "/apps") == 401
        assert (
            httpx.get(
                f"{server.url}/oauth/clients/{created['id']}", headers=API_HEADERS
            ).status_code
            == 404
        )


class TestTokens:
    def _grant(self, api: httpx.Client) -> tuple[dict[str, Any], dict[str, Any]]:
        client = _client(api)
        granted = api.post(
            "/oauth/authorizations", json={"client": client["id"], "scope": ["read"]}
        )
        assert granted.status_code == 201
        body = granted.json()
        assert body["client"]["id"] == client["id"]
        assert body["refresh_token"]["token"].startswith("ostr_")
        assert body["grant"]["code"].startswith("ostg_")
        assert body["access_token"]["token"].startswith("osto_")
        assert 28790 <= body["access_token"]["expires_in"] <= 28800
        return client, body

    def test_code_exchange_and_replay(self, api: httpx.Client, server: ServerProcess) -> None:
        client, granted = self._grant(api)
        request = {
            "grant": {"type": "authorization_code", "code": granted["grant"]["code"]},
            "client": {"secret": client["secret"]},
        }
        first = _exchange(server, **request)
        assert first.status_code == 201
        assert first.headers["cache-control"] == "no-store"
        body = first.json()
        assert_matches_heroku("oauth-token", {**body, "session": body["session"] or {}})
        assert body["client"] is None
        access = body["access_token"]["token"]
        assert _status(server, access, "/apps") == 200
        replay = _exchange(server, **request)
        assert replay.status_code == 400
        assert replay.json()["id"] == "invalid_grant"
        assert _status(server, access, "/apps") == 401  # the replay revoked what the code produced

    def test_wrong_secret_and_unknown_code(self, api: httpx.Client, server: ServerProcess) -> None:
        client, granted = self._grant(api)
        wrong = _exchange(
            server,
            grant={"type": "authorization_code", "code": granted["grant"]["code"]},
            client={"secret": "ostc_notthesecret"},
        )
        assert wrong.status_code == 401
        unknown = _exchange(
            server,
            grant={"type": "authorization_code", "code": "ostg_nope"},
            client={"secret": client["secret"]},
        )
        assert unknown.status_code == 400
        assert unknown.json()["id"] == "invalid_grant"

    def _refresh(self, server: ServerProcess, client: dict[str, Any], token: str) -> httpx.Response:
        return _exchange(
            server,
            grant={"type": "refresh_token"},
            refresh_token={"token": token},
            client={"secret": client["secret"]},
        )

    def test_refresh_rotates_and_reuse_revokes_the_family(
        self, api: httpx.Client, server: ServerProcess
    ) -> None:
        client, granted = self._grant(api)
        first = granted["refresh_token"]["token"]
        second_response = self._refresh(server, client, first)
        assert second_response.status_code == 201
        second = second_response.json()["refresh_token"]["token"]
        assert second != first
        third_response = self._refresh(server, client, second)
        assert third_response.status_code == 201
        live_access = third_response.json()["access_token"]["token"]
        assert _status(server, live_access, "/apps") == 200
        # The first token is two generations old: a stolen copy. The whole family dies.
        reused = self._refresh(server, client, first)
        assert reused.status_code == 400
        assert reused.json()["id"] == "invalid_grant"
        assert _status(server, live_access, "/apps") == 401
        assert (
            self._refresh(
                server, client, third_response.json()["refresh_token"]["token"]
            ).status_code
            == 400
        )

    def test_concurrent_refresh_of_one_token_logs_nobody_out(
        self, api: httpx.Client, server: ServerProcess
    ) -> None:
        client, granted = self._grant(api)
        token = granted["refresh_token"]["token"]
        # The same token twice, as two racing requests of one client would send it.
        first = self._refresh(server, client, token)
        second = self._refresh(server, client, token)
        assert (first.status_code, second.status_code) == (201, 201)
        for response in (first, second):
            assert _status(server, response.json()["access_token"]["token"], "/apps") == 200
        # Whichever refresh token the client kept still works.
        assert (
            self._refresh(server, client, second.json()["refresh_token"]["token"]).status_code
            == 201
        )

    def test_refresh_needs_the_clients_secret(
        self, api: httpx.Client, server: ServerProcess
    ) -> None:
        _, granted = self._grant(api)
        other = _client(api)
        response = _exchange(
            server,
            grant={"type": "refresh_token"},
            refresh_token={"token": granted["refresh_token"]["token"]},
            client={"secret": other["secret"]},
        )
        assert response.status_code == 401

    def test_delete_token_revokes_it(self, api: httpx.Client, server: ServerProcess) -> None:
        created = api.post("/oauth/authorizations", json={"scope": ["read"]}).json()
        token = created["access_token"]["token"]
        response = api.delete(f"/oauth/tokens/{created['access_token']['id']}")
        assert response.status_code == 200
        assert _status(server, token, "/apps") == 401
        assert api.delete(f"/oauth/tokens/{created['access_token']['id']}").status_code == 404


class TestRecordsAndSecrets:
    def test_each_action_is_an_event(
        self, api: httpx.Client, server: ServerProcess, account: UserAccount
    ) -> None:
        client = _client(api)
        api.post(f"/oauth/clients/{client['id']}/actions/rotate-credentials")
        created = api.post("/oauth/authorizations", json={"scope": ["read"]}).json()
        api.post(f"/oauth/authorizations/{created['id']}/actions/regenerate-tokens")
        api.delete(f"/oauth/authorizations/{created['id']}")
        api.delete(f"/oauth/clients/{client['id']}")
        actions = _events(server, account.id)
        for action in [
            "oauth:client:create",
            "oauth:client:rotate",
            "token:authorization:create",
            "token:authorization:regenerate",
            "token:authorization:revoke",
            "oauth:client:destroy",
        ]:
            assert action in actions

    def test_no_secret_in_plaintext_at_rest(self, api: httpx.Client, server: ServerProcess) -> None:
        client = _client(api)
        granted = api.post("/oauth/authorizations", json={"client": client["id"]}).json()
        exchanged = _exchange(
            server,
            grant={"type": "authorization_code", "code": granted["grant"]["code"]},
            client={"secret": client["secret"]},
        ).json()
        secrets = [
            client["secret"],
            granted["grant"]["code"],
            granted["refresh_token"]["token"],
            granted["access_token"]["token"],
            exchanged["access_token"]["token"],
            exchanged["refresh_token"]["token"],
        ]
        stored = [path for path in server.data_dir.glob("ostiary.db*") if path.is_file()]
        blob = b"".join(path.read_bytes() for path in stored)
        for secret in secrets:
            assert secret.encode() not in blob
            assert secret not in server.log()
