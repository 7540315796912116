"""Rotation without downtime, against a real server: a regeneration with a grace period keeps
the old token working (and shows who still uses it) until the grace ends, then refuses it;
revoking ends both; a client secret rotated with a grace authenticates the client with either
secret until it ends; a grace over 7 days and someone else's authorization are refused."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import httpx
import pytest

from ostiary.security.tokens import REDACTION
from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.oauth_flow import hidden_fields
from tests.support.ostiary_cli import OstiaryCLI
from tests.support.schema import assert_matches_heroku
from tests.support.server import ServerProcess, start_server, trusting

SETTINGS = {"OSTIARY_TRUSTED_PROXIES": "127.0.0.1"}
GRACE = 3


@pytest.fixture(scope="module")
def rotation_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(tmp_path_factory.mktemp("rotation"), settings=SETTINGS)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def rotation_factory(rotation_server: ServerProcess) -> Iterator[Factory]:
    factory = Factory(Path(rotation_server.data_dir))
    yield factory
    factory.close()


@pytest.fixture
def owner(rotation_factory: Factory) -> UserAccount:
    return rotation_factory.account("rotator")


def _from(client: httpx.Client, address: str) -> int:
    headers = {"X-Forwarded-For": address, "X-Forwarded-Proto": "https"}
    return client.get("/account", headers=headers).status_code


def _wait_past(moment: str) -> None:
    """Sleep until the server's clock is past a timestamp it gave (the grace's end)."""
    ends = datetime.fromisoformat(moment.replace("Z", "+00:00")).timestamp()
    time.sleep(max(0.0, ends - time.time()) + 0.2)


def _rotate(
    server: ServerProcess, token: str, authorization_id: str, body: object
) -> httpx.Response:
    with server.client(token) as api:
        return api.post(
            f"/oauth/authorizations/{authorization_id}/actions/regenerate-tokens", json=body
        )


class TestTokenRotationWithGrace:
    def test_old_and_new_work_during_the_grace_then_only_the_new(
        self, rotation_server: ServerProcess, rotation_factory: Factory, owner: UserAccount
    ) -> None:
        authorization_id, old = rotation_factory.token(owner, ["global"])
        rotated = _rotate(rotation_server, owner.api_key, authorization_id, {"grace_period": GRACE})
        assert rotated.status_code == 200, rotated.text
        body = rotated.json()
        assert_matches_heroku("oauth-authorization", body)
        new = body["access_token"]["token"]
        assert REDACTION not in new
        assert new != old
        [retiring] = body["retiring"]
        assert retiring["token"] == old[:9] + REDACTION + old[-4:]
        with rotation_server.client(old) as old_client, rotation_server.client(new) as new_client:
            assert _from(new_client, "192.0.2.20") == 200
            assert _from(old_client, "192.0.2.21") == 200  # a consumer not yet moved
            with rotation_server.client(owner.api_key) as api:
                shown = api.get(f"/oauth/authorizations/{authorization_id}").json()
                listed = api.get("/oauth/authorizations").json()
            [still] = shown["retiring"]
            assert still["last_used_ip"] == "192.0.2.21"
            assert still["last_used_at"] is not None
            assert still["retiring_at"] == retiring["retiring_at"]
            # The listing names the new token as the authorization's, the old one as retiring.
            [entry] = [a for a in listed if a["id"] == authorization_id]
            assert entry["access_token"]["token"] == new[:9] + REDACTION + new[-4:]
            assert [r["last_used_ip"] for r in entry["retiring"]] == ["192.0.2.21"]
            _wait_past(retiring["retiring_at"])
            refused = old_client.get("/account")
            assert refused.status_code == 401
            assert refused.json()["id"] == "unauthorized"
            assert new_client.get("/account").status_code == 200
        with rotation_server.client(owner.api_key) as api:
            assert api.get(f"/oauth/authorizations/{authorization_id}").json()["retiring"] == []

    def test_revoking_during_the_grace_ends_both(
        self, rotation_server: ServerProcess, rotation_factory: Factory, owner: UserAccount
    ) -> None:
        authorization_id, old = rotation_factory.token(owner, ["global"])
        rotated = _rotate(rotation_server, owner.api_key, authorization_id, {"grace_period": 600})
        new = rotated.json()["access_token"]["token"]
        with rotation_server.client(owner.api_key) as api:
            assert api.delete(f"/oauth/authorizations/{authorization_id}").status_code == 200
        for token in (old, new):
            with rotation_server.client(token) as client:
                assert client.get("/account").status_code == 401

    def test_revoking_the_retiring_token_alone_ends_only_it(
        self, rotation_server: ServerProcess, rotation_factory: Factory, owner: UserAccount
    ) -> None:
        authorization_id, old = rotation_factory.token(owner, ["global"])
        rotated = _rotate(rotation_server, owner.api_key, authorization_id, {"grace_period": 600})
        new = rotated.json()["access_token"]["token"]
        [retiring] = rotated.json()["retiring"]
        with rotation_server.client(owner.api_key) as api:
            assert api.delete(f"/oauth/tokens/{retiring['id']}").status_code == 200
            assert api.get(f"/oauth/authorizations/{authorization_id}").json()["retiring"] == []
        with rotation_server.client(old) as client:
            assert client.get("/account").status_code == 401
        with rotation_server.client(new) as client:
            assert client.get("/account").status_code == 200

    def test_a_second_rotation_ends_the_token_still_retiring(
        self, rotation_server: ServerProcess, rotation_factory: Factory, owner: UserAccount
    ) -> None:
        authorization_id, first = rotation_factory.token(owner, ["global"])
        second = _rotate(rotation_server, owner.api_key, authorization_id, {"grace_period": 600})
        second_token = second.json()["access_token"]["token"]
        third = _rotate(rotation_server, owner.api_key, authorization_id, {"grace_period": 600})
        third_token = third.json()["access_token"]["token"]
        assert [r["token"][-4:] for r in third.json()["retiring"]] == [second_token[-4:]]
        statuses = {}
        for name, token in (("first", first), ("second", second_token), ("third", third_token)):
            with rotation_server.client(token) as client:
                statuses[name] = client.get("/account").status_code
        assert statuses == {"first": 401, "second": 200, "third": 200}

    def test_without_a_grace_the_old_token_ends_at_once(
        self, rotation_server: ServerProcess, rotation_factory: Factory, owner: UserAccount
    ) -> None:
        for body in (None, {"grace_period": 0}):
            authorization_id, old = rotation_factory.token(owner, ["global"])
            rotated = _rotate(rotation_server, owner.api_key, authorization_id, body)
            assert rotated.status_code == 200
            assert rotated.json()["retiring"] == []
            with rotation_server.client(old) as client:
                assert client.get("/account").status_code == 401


class TestRotationRefusals:
    @pytest.mark.parametrize("grace", [604801, -1, 1.5, "1h", True, [60]])
    def test_a_bad_grace_is_refused_and_the_token_kept(
        self,
        rotation_server: ServerProcess,
        rotation_factory: Factory,
        owner: UserAccount,
        grace: object,
    ) -> None:
        authorization_id, old = rotation_factory.token(owner, ["global"])
        refused = _rotate(rotation_server, owner.api_key, authorization_id, {"grace_period": grace})
        assert refused.status_code == 422
        assert refused.json()["id"] == "invalid_params"
        assert refused.json()["field"] == "grace_period"
        with rotation_server.client(old) as client:
            assert client.get("/account").status_code == 200  # nothing was rotated

    def test_the_longest_grace_is_accepted(
        self, rotation_server: ServerProcess, rotation_factory: Factory, owner: UserAccount
    ) -> None:
        authorization_id, old = rotation_factory.token(owner, ["global"])
        rotated = _rotate(
            rotation_server, owner.api_key, authorization_id, {"grace_period": 604800}
        )
        assert rotated.status_code == 200
        with rotation_server.client(old) as client:
            assert client.get("/account").status_code == 200

    def test_the_retiring_token_cannot_make_or_regenerate_credentials(
        self, rotation_server: ServerProcess, rotation_factory: Factory, owner: UserAccount
    ) -> None:
        """What an old token made during its grace would outlive the grace: refused."""
        authorization_id, old = rotation_factory.token(owner, ["global"])
        rotated = _rotate(rotation_server, owner.api_key, authorization_id, {"grace_period": 600})
        new = rotated.json()["access_token"]["token"]
        with rotation_server.client(old) as client:
            child = client.post("/oauth/authorizations", json={"description": "outlive"})
            assert child.status_code == 403
            assert "replaced by a rotation" in child.json()["message"]
            again = client.post(
                f"/oauth/authorizations/{authorization_id}/actions/regenerate-tokens",
                json={"grace_period": 600},
            )
            assert again.status_code == 403
            machine = client.post(
                "/oauth/clients",
                json={
                    "name": "outlive",
                    "redirect_uri": "https://example.com/cb",
                    "client_credentials_scopes": ["identity"],
                },
            )
            assert machine.status_code == 403
            # Nor anything else that outlives it or rules over other tokens: a client (its
            # secret, its redirect URIs), a new secret, a webhook, the account's token policy.
            owned = rotation_factory.token(owner, ["global"])[1]
            with rotation_server.client(owned) as other:
                app = other.post(
                    "/oauth/clients", json={"name": "app", "redirect_uri": "https://example.com/cb"}
                ).json()
            attempts = [
                ("POST", "/oauth/clients", {"name": "x", "redirect_uri": "https://example.com/cb"}),
                ("PATCH", f"/oauth/clients/{app['id']}", {"redirect_uri": "https://evil.test/cb"}),
                ("POST", f"/oauth/clients/{app['id']}/actions/rotate-credentials", {}),
                ("POST", "/account/webhooks", {"url": "https://hooks.example.test/in",
                                               "include": ["event"], "level": "notify"}),
                ("PATCH", "/account/token-policy", {"max_lifetime": None}),
            ]  # fmt: skip
            for method, path, body in attempts:
                refused = client.request(method, path, json=body)
                assert refused.status_code == 403, (method, path, refused.text)
                assert "replaced by a rotation" in refused.json()["message"]
            with rotation_server.client(owned) as other:
                kept = other.get(f"/oauth/clients/{app['id']}").json()
            assert kept["redirect_uri"] == "https://example.com/cb"
            assert client.get("/account").status_code == 200  # it still works for its use
        with rotation_server.client(new) as client:
            made = client.post("/oauth/authorizations", json={"description": "fine"})
            assert made.status_code == 201

    def test_someone_elses_authorization_is_not_found(
        self, rotation_server: ServerProcess, rotation_factory: Factory, owner: UserAccount
    ) -> None:
        victim = rotation_factory.account("victim")
        authorization_id, victims_token = rotation_factory.token(victim, ["global"])
        attempt = _rotate(rotation_server, owner.api_key, authorization_id, {"grace_period": 60})
        assert attempt.status_code == 404
        with rotation_server.client(victims_token) as client:
            assert client.get("/account").status_code == 200
        with rotation_server.client(victim.api_key) as api:
            assert api.get(f"/oauth/authorizations/{authorization_id}").json()["retiring"] == []


def _client_token(server: ServerProcess, client_id: str, secret: str) -> int:
    issued = httpx.post(
        f"{server.url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client_id, secret),
        verify=trusting(server.cert_path) if server.tls else True,
    )
    return issued.status_code


class TestClientSecretRotation:
    def _register(self, server: ServerProcess, owner: UserAccount) -> dict[str, str]:
        with server.client(owner.api_key) as api:
            created = api.post(
                "/oauth/clients",
                json={
                    "name": "fleet",
                    "redirect_uri": "https://example.com/cb",
                    "client_credentials_scopes": ["identity"],
                },
            )
        assert created.status_code == 201, created.text
        body: dict[str, str] = created.json()
        return body

    def _rotate(
        self, server: ServerProcess, owner: UserAccount, client_id: str, body: object
    ) -> httpx.Response:
        with server.client(owner.api_key) as api:
            return api.post(f"/oauth/clients/{client_id}/actions/rotate-credentials", json=body)

    def test_both_secrets_work_during_the_grace_then_only_the_new(
        self, rotation_server: ServerProcess, owner: UserAccount
    ) -> None:
        client = self._register(rotation_server, owner)
        rotated = self._rotate(rotation_server, owner, client["id"], {"grace_period": GRACE})
        assert rotated.status_code == 200, rotated.text
        new_secret = rotated.json()["secret"]
        ends = rotated.json()["previous_secret_expires_at"]
        assert new_secret != client["secret"]
        assert ends is not None
        assert _client_token(rotation_server, client["id"], new_secret) == 200
        assert _client_token(rotation_server, client["id"], client["secret"]) == 200
        _wait_past(ends)
        assert _client_token(rotation_server, client["id"], client["secret"]) == 401
        assert _client_token(rotation_server, client["id"], new_secret) == 200
        with rotation_server.client(owner.api_key) as api:
            shown = api.get(f"/oauth/clients/{client['id']}").json()
        assert shown["previous_secret_expires_at"] is None

    def test_without_a_grace_the_old_secret_ends_at_once(
        self, rotation_server: ServerProcess, owner: UserAccount
    ) -> None:
        client = self._register(rotation_server, owner)
        rotated = self._rotate(rotation_server, owner, client["id"], None)
        assert rotated.status_code == 200
        assert _client_token(rotation_server, client["id"], client["secret"]) == 401
        assert _client_token(rotation_server, client["id"], rotated.json()["secret"]) == 200

    def test_a_second_rotation_ends_the_oldest_secret(
        self, rotation_server: ServerProcess, owner: UserAccount
    ) -> None:
        client = self._register(rotation_server, owner)
        second = self._rotate(rotation_server, owner, client["id"], {"grace_period": 600})
        third = self._rotate(rotation_server, owner, client["id"], {"grace_period": 600})
        assert _client_token(rotation_server, client["id"], client["secret"]) == 401
        assert _client_token(rotation_server, client["id"], second.json()["secret"]) == 200
        assert _client_token(rotation_server, client["id"], third.json()["secret"]) == 200

    def test_a_grace_over_seven_days_is_refused_and_the_secret_kept(
        self, rotation_server: ServerProcess, owner: UserAccount
    ) -> None:
        client = self._register(rotation_server, owner)
        refused = self._rotate(rotation_server, owner, client["id"], {"grace_period": 604801})
        assert refused.status_code == 422
        assert refused.json()["id"] == "invalid_params"
        assert _client_token(rotation_server, client["id"], client["secret"]) == 200

    def test_someone_elses_client_is_not_found(
        self, rotation_server: ServerProcess, rotation_factory: Factory, owner: UserAccount
    ) -> None:
        client = self._register(rotation_server, owner)
        stranger = rotation_factory.account("stranger")
        attempt = self._rotate(rotation_server, stranger, client["id"], {"grace_period": 60})
        assert attempt.status_code == 404
        assert _client_token(rotation_server, client["id"], client["secret"]) == 200


class TestCommandLine:
    def test_rotate_with_a_grace_shows_the_retiring_token_and_its_last_use(
        self,
        rotation_server: ServerProcess,
        rotation_factory: Factory,
        owner: UserAccount,
        tmp_path: Path,
    ) -> None:
        cli = OstiaryCLI(rotation_server, tmp_path)
        authorization_id, old = rotation_factory.token(owner, ["global"])
        rotated = cli.run(
            "authorizations:rotate",
            authorization_id,
            "--grace-period",
            "1h",
            "--json",
            api_key=owner.api_key,
        )
        assert rotated.returncode == 0, rotated.stderr
        new = json.loads(rotated.stdout)["access_token"]["token"]
        with rotation_server.client(old) as old_client:
            assert _from(old_client, "192.0.2.30") == 200
        with rotation_server.client(new) as new_client:
            assert new_client.get("/account").status_code == 200
        shown = cli.run("authorizations:info", authorization_id, api_key=owner.api_key)
        assert shown.returncode == 0, shown.stderr
        [line] = [line for line in shown.stdout.splitlines() if line.startswith("Retiring:")]
        assert old[-4:] in line
        assert "from 192.0.2.30" in line
        assert old not in shown.stdout  # redacted

    def test_a_grace_over_seven_days_is_a_usage_error(
        self,
        rotation_server: ServerProcess,
        rotation_factory: Factory,
        owner: UserAccount,
        tmp_path: Path,
    ) -> None:
        cli = OstiaryCLI(rotation_server, tmp_path)
        authorization_id, old = rotation_factory.token(owner, ["global"])
        for bad in ("8d", "soon"):
            refused = cli.run(
                "authorizations:rotate", authorization_id, "-g", bad, api_key=owner.api_key
            )
            assert refused.returncode == 2
            assert "grace-period" in refused.stderr
        with rotation_server.client(old) as client:
            assert client.get("/account").status_code == 200

    def test_clients_rotate_with_a_grace_keeps_the_old_secret_working(
        self, rotation_server: ServerProcess, owner: UserAccount, tmp_path: Path
    ) -> None:
        client = TestClientSecretRotation()._register(rotation_server, owner)
        cli = OstiaryCLI(rotation_server, tmp_path)
        rotated = cli.run(
            "clients:rotate", client["id"], "-g", "10m", "--json", api_key=owner.api_key
        )
        assert rotated.returncode == 0, rotated.stderr
        new_secret = json.loads(rotated.stdout)["secret"]
        assert _client_token(rotation_server, client["id"], client["secret"]) == 200
        assert _client_token(rotation_server, client["id"], new_secret) == 200


@pytest.fixture(scope="module")
def dashboard_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A TLS server: the dashboard's cookies are Secure."""
    server = start_server(tmp_path_factory.mktemp("rotation-tls"), settings=SETTINGS, tls=True)
    yield server
    server.stop()


@contextmanager
def _signed_in(server: ServerProcess, owner: UserAccount) -> Iterator[httpx.Client]:
    """A browser signed in to the dashboard as ``owner``, just now (its password is recent)."""
    with httpx.Client(
        base_url=f"https://localhost:{server.port}",
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-For": "198.51.100.40"},
        verify=trusting(server.cert_path),
        follow_redirects=False,
        timeout=30,
    ) as browser:
        fields = hidden_fields(browser.get("/login").text)
        data = {**fields, "email": owner.email, "password": PASSWORD}
        assert browser.post("/login", data=data).status_code == 303
        yield browser


class TestDashboard:
    def test_rotate_with_a_grace_lists_the_old_token_as_retiring(
        self, dashboard_server: ServerProcess
    ) -> None:
        factory = Factory(Path(dashboard_server.data_dir))
        try:
            owner = factory.account("dashboard-rotator")
            authorization_id, old = factory.token(owner, ["global"])
        finally:
            factory.close()
        rotation_server = dashboard_server
        with _signed_in(dashboard_server, owner) as browser:
            page = browser.get("/dashboard/tokens").text
            assert 'name="grace_period"' in page
            for offered in ('value="3600"', 'value="86400"', 'value="604800"'):
                assert offered in page
            form = hidden_fields(page)
            refused = browser.post(
                f"/dashboard/tokens/{authorization_id}/rotate",
                data={**form, "grace_period": "999999"},
            )
            assert refused.status_code == 303  # back to the page, with the reason
            shown = browser.get(refused.headers["location"]).text
            assert "Choose one of the offered grace periods" in shown
            with rotation_server.client(old) as old_client:
                assert old_client.get("/account").status_code == 200  # nothing was rotated
            rotated = browser.post(
                f"/dashboard/tokens/{authorization_id}/rotate",
                data={**form, "grace_period": "3600"},
            )
            assert rotated.status_code == 200, rotated.text
            assert "shown this once" in rotated.text
            with rotation_server.client(old) as old_client:
                assert _from(old_client, "192.0.2.50") == 200
            listed = browser.get("/dashboard/tokens").text
            assert f"{old[:9]}…{old[-4:]} retiring at" in listed
            assert "from 192.0.2.50" in listed
            detail = browser.get(f"/dashboard/tokens/{authorization_id}").text
            assert "retiring at" in detail
            assert "from 192.0.2.50" in detail

    def test_rotate_an_applications_secret_with_a_grace_keeps_both_working(
        self, dashboard_server: ServerProcess
    ) -> None:
        factory = Factory(Path(dashboard_server.data_dir))
        try:
            owner = factory.account("dashboard-client-owner")
        finally:
            factory.close()
        client = TestClientSecretRotation()._register(dashboard_server, owner)
        with _signed_in(dashboard_server, owner) as browser:
            page = browser.get(f"/dashboard/applications/{client['id']}").text
            assert 'name="grace_period"' in page
            rotated = browser.post(
                f"/dashboard/applications/{client['id']}/rotate",
                data={**hidden_fields(page), "confirm": "yes", "grace_period": "86400"},
            )
            assert rotated.status_code == 200, rotated.text
            assert "the old one works until" in rotated.text
            shown = browser.get(f"/dashboard/applications/{client['id']}").text
            assert "The previous secret still works until" in shown
        assert _client_token(dashboard_server, client["id"], client["secret"]) == 200
        with dashboard_server.client(owner.api_key) as api:
            info = api.get(f"/oauth/clients/{client['id']}").json()
        assert info["previous_secret_expires_at"] is not None
