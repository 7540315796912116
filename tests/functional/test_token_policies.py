"""Token policies through a real server: the server's limits and an account's stricter ones,
refused and accepted at their edge on ``POST /oauth/authorizations``, ``GET``/``PATCH
/account/token-policy``, a token made before a stricter policy, and the API key past its
maximum age (docs/token-lifecycle.md, "Policies")."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.oauth_flow import register
from tests.support.ostiary_cli import OstiaryCLI
from tests.support.server import ServerProcess, start_server

DAY = 86400
LIMIT = 90 * DAY


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose tokens live at most 90 days and whose API keys at most one day."""
    server = start_server(
        tmp_path_factory.mktemp("policy-server"),
        settings={"OSTIARY_TOKEN_MAX_LIFETIME": "90d", "OSTIARY_API_KEY_MAX_AGE": "1d"},
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def limited_factory(limited: ServerProcess) -> Iterator[Factory]:
    made = Factory(limited.data_dir)
    yield made
    made.close()


def _create(client: httpx.Client, **body: object) -> httpx.Response:
    return client.post("/oauth/authorizations", json={"description": "policy test", **body})


def _sql(server: ServerProcess, statement: str, *params: object) -> None:
    with sqlite3.connect(server.data_dir / "ostiary.db") as db:
        db.execute(statement, params)


def _past(delta: timedelta) -> str:
    """A time ``delta`` ago as the database stores it."""
    return (datetime.now(UTC) - delta).replace(tzinfo=None).isoformat(sep=" ")


class TestServerMaximumLifetime:
    def test_exactly_the_maximum_is_accepted(
        self, limited: ServerProcess, limited_factory: Factory
    ) -> None:
        account = limited_factory.account()
        with limited.client(account.api_key) as client:
            response = _create(client, expires_in=LIMIT, scope=["read"])
        assert response.status_code == 201, response.text
        assert LIMIT - 60 <= response.json()["access_token"]["expires_in"] <= LIMIT

    def test_one_second_over_is_refused_naming_the_policy_and_limit(
        self, limited: ServerProcess, limited_factory: Factory
    ) -> None:
        account = limited_factory.account()
        with limited.client(account.api_key) as client:
            response = _create(client, expires_in=LIMIT + 1)
            assert response.status_code == 422
            assert response.json()["id"] == "invalid_params"
            assert response.json()["message"] == (
                "expires_in is over the longest lifetime this account allows, 90 days "
                "(OSTIARY_TOKEN_MAX_LIFETIME)."
            )
            # Nothing was made.
            listed = client.get("/oauth/authorizations").json()
        assert all(a["description"] != "policy test" for a in listed)

    def test_a_token_asked_for_without_expiry_gets_the_maximum(
        self, limited: ServerProcess, limited_factory: Factory
    ) -> None:
        account = limited_factory.account()
        with limited.client(account.api_key) as client:
            response = _create(client, expires_in=None)
        assert response.status_code == 201, response.text
        assert LIMIT - 60 <= response.json()["access_token"]["expires_in"] <= LIMIT

    def test_the_policy_in_force_shows_its_sources(
        self, limited: ServerProcess, limited_factory: Factory
    ) -> None:
        account = limited_factory.account()
        with limited.client(account.api_key) as client:
            policy = client.get("/account/token-policy").json()
        assert policy["max_lifetime"] == {"value": LIMIT, "source": "server"}
        assert policy["api_key_max_age"] == {"value": DAY, "source": "server"}
        assert policy["idle_revoke_after"] == {"value": 365 * DAY, "source": "server"}
        assert policy["allow_non_expiring"] == {"value": True, "source": "server"}
        assert policy["non_expiring_scopes"] == {"value": None, "source": "server"}
        assert policy["tightened_at"] is None


class TestAccountPolicy:
    def test_an_account_cannot_loosen_the_servers_limit(
        self, limited: ServerProcess, limited_factory: Factory
    ) -> None:
        account = limited_factory.account()
        with limited.client(account.api_key) as client:
            refused = client.patch("/account/token-policy", json={"max_lifetime": "91d"})
            assert refused.status_code == 422
            assert refused.json()["id"] == "invalid_params"
            assert "max_lifetime" in refused.json()["message"]
            assert "90 days (OSTIARY_TOKEN_MAX_LIFETIME)" in refused.json()["message"]
            over = client.patch("/account/token-policy", json={"api_key_max_age": DAY + 1})
            assert over.status_code == 422
            assert "OSTIARY_API_KEY_MAX_AGE" in over.json()["message"]
            unchanged = client.get("/account/token-policy").json()
        assert unchanged["max_lifetime"]["source"] == "server"

    def test_an_account_makes_the_limit_stricter_and_is_held_to_it(
        self, limited: ServerProcess, limited_factory: Factory
    ) -> None:
        account = limited_factory.account()
        with limited.client(account.api_key) as client:
            exact = client.patch("/account/token-policy", json={"max_lifetime": "90d"})
            assert exact.status_code == 200, exact.text
            changed = client.patch("/account/token-policy", json={"max_lifetime": "30d"})
            assert changed.status_code == 200, changed.text
            assert changed.json()["max_lifetime"] == {"value": 30 * DAY, "source": "account"}
            assert changed.json()["tightened_at"] is not None
            assert _create(client, expires_in=30 * DAY).status_code == 201
            refused = _create(client, expires_in=30 * DAY + 1)
            assert refused.status_code == 422
            assert (
                "30 days (this account's token policy, max_lifetime)" in (refused.json()["message"])
            )

    def test_a_bad_duration_is_refused_not_a_server_error(
        self, limited: ServerProcess, limited_factory: Factory
    ) -> None:
        account = limited_factory.account()
        with limited.client(account.api_key) as client:
            for bad in ("ninety days", -5, 0, True, "999999999999w", 2**70):
                response = client.patch("/account/token-policy", json={"max_lifetime": bad})
                assert response.status_code == 422, (bad, response.text)
                assert response.json()["id"] == "invalid_params"

    def test_a_narrow_token_may_read_but_not_change_the_policy(
        self, limited: ServerProcess, limited_factory: Factory
    ) -> None:
        account = limited_factory.account()
        _, identity = limited_factory.token(account, ["identity"])
        with limited.client(identity) as client:
            assert client.get("/account/token-policy").status_code == 200
            refused = client.patch("/account/token-policy", json={"max_lifetime": "1d"})
        assert refused.status_code == 403
        with limited.client(account.api_key) as client:
            assert client.get("/account/token-policy").json()["max_lifetime"]["source"] == (
                "server"
            )

    def test_another_accounts_policy_is_untouched(
        self, server: ServerProcess, account: UserAccount, other_account: UserAccount
    ) -> None:
        with server.client(account.api_key) as client:
            assert (
                client.patch(
                    "/account/token-policy", json={"allow_non_expiring": False}
                ).status_code
                == 200
            )
        with server.client(other_account.api_key) as client:
            assert _create(client, expires_in=None).status_code == 201


class TestNonExpiring:
    def test_no_expiry_refused_once_the_account_forbids_it(
        self, server: ServerProcess, account: UserAccount
    ) -> None:
        with server.client(account.api_key) as client:
            assert _create(client, expires_in=None).status_code == 201
            client.patch("/account/token-policy", json={"allow_non_expiring": False})
            refused = _create(client, expires_in=None)
            assert refused.status_code == 422
            assert refused.json()["id"] == "invalid_params"
            assert "does not allow tokens without expiry" in refused.json()["message"]
            assert _create(client, expires_in=1).status_code == 201

    def test_a_non_expiring_token_carries_only_the_allowed_scopes(
        self, server: ServerProcess, account: UserAccount
    ) -> None:
        with server.client(account.api_key) as client:
            patched = client.patch(
                "/account/token-policy", json={"non_expiring_scopes": ["read", "identity"]}
            )
            assert patched.json()["non_expiring_scopes"] == {
                "value": ["read", "identity"],
                "source": "account",
            }
            assert _create(client, scope=["read"]).status_code == 201
            refused = _create(client, scope=["global"])
            assert refused.status_code == 422
            assert "read, identity" in refused.json()["message"]
            assert _create(client, scope=["global"], expires_in=3600).status_code == 201

    def test_a_child_token_follows_the_policy_too(
        self, server: ServerProcess, account: UserAccount, factory: Factory
    ) -> None:
        _, token = factory.token(account, ["global"])
        with server.client(account.api_key) as client:
            client.patch("/account/token-policy", json={"max_lifetime": "1h"})
        with server.client(token) as client:
            refused = _create(client, expires_in=3601)
            assert refused.status_code == 422
            assert "1 hour" in refused.json()["message"]
            assert _create(client, expires_in=3600).status_code == 201


class TestTokensMadeBeforeAStricterPolicy:
    def test_they_expire_at_the_limit_counted_from_the_change(
        self, server: ServerProcess, account: UserAccount, factory: Factory
    ) -> None:
        old_id, old = factory.token(account, ["read"])  # never expires
        _sql(
            server,
            "UPDATE authorizations SET created_at = ? WHERE id = ?",
            _past(timedelta(days=10)),
            old_id,
        )
        with server.client(account.api_key) as client:
            client.patch("/account/token-policy", json={"max_lifetime": "1d"})
        with server.client(old) as client:
            assert client.get("/apps").status_code == 200  # a day from the change
        # The change was a day and a second ago: the old token's time is up.
        _sql(
            server,
            "UPDATE account_token_policies SET tightened_at = ? WHERE account_id = ?",
            _past(timedelta(days=1, seconds=1)),
            account.id,
        )
        with server.client(old) as client:
            refused = client.get("/apps")
        assert refused.status_code == 401
        assert refused.json()["id"] == "unauthorized"
        # The API key follows its own age alone, and a token made under the policy works.
        with server.client(account.api_key) as client:
            made = _create(client, expires_in=DAY)
            assert made.status_code == 201
        with server.client(made.json()["access_token"]["token"]) as client:
            assert client.get("/account").status_code == 200
        # The listing marks the old one out of policy, and the new one not.
        with server.client(account.api_key) as client:
            listed = {
                a["id"]: a["out_of_policy"] for a in client.get("/oauth/authorizations").json()
            }
        assert listed[old_id] is True
        assert listed[made.json()["id"]] is False


class TestApiKeyMaximumAge:
    def test_a_key_past_its_age_is_refused_with_how_to_regenerate(
        self, limited: ServerProcess, limited_factory: Factory
    ) -> None:
        account = limited_factory.account()
        _, personal = limited_factory.token(account, ["global"], expires_at=None)
        with limited.client(account.api_key) as client:
            assert client.get("/account").status_code == 200
        app = register(limited, personal)

        def introspected() -> dict[str, object]:
            answer = httpx.post(
                f"{limited.url}/oauth/introspect",
                data={"token": account.api_key},
                auth=(app["id"], app["secret"]),
            )
            assert answer.status_code == 200
            body: dict[str, object] = answer.json()
            return body

        assert introspected()["active"] is True
        _sql(
            limited,
            "UPDATE access_tokens SET created_at = ? WHERE authorization_id IN "
            "(SELECT id FROM authorizations WHERE account_id = ? AND kind = 'api_key')",
            _past(timedelta(days=1, seconds=1)),
            account.id,
        )
        with limited.client(account.api_key) as client:
            refused = client.get("/account")
        assert refused.status_code == 401
        assert refused.json()["id"] == "unauthorized"
        assert "regenerate" in refused.json()["message"]
        assert "1 day" in refused.json()["message"]
        # A resource server asking introspection is told the same: inactive.
        assert introspected() == {"active": False}
        with limited.client(personal) as client:
            regenerated = client.post("/oauth/authorizations/~/actions/regenerate-tokens")
        assert regenerated.status_code == 200, regenerated.text
        with limited.client(regenerated.json()["access_token"]["token"]) as client:
            assert client.get("/account").status_code == 200

    def test_a_key_just_under_its_age_works(
        self, limited: ServerProcess, limited_factory: Factory
    ) -> None:
        account = limited_factory.account()
        _sql(
            limited,
            "UPDATE access_tokens SET created_at = ? WHERE authorization_id IN "
            "(SELECT id FROM authorizations WHERE account_id = ? AND kind = 'api_key')",
            _past(timedelta(days=1, seconds=-30)),
            account.id,
        )
        with limited.client(account.api_key) as client:
            assert client.get("/account").status_code == 200


class TestLogins:
    def test_a_password_login_asking_a_year_gets_the_maximum_not_a_refusal(
        self, limited: ServerProcess, limited_factory: Factory
    ) -> None:
        account = limited_factory.account()
        with limited.client() as client:
            response = client.post(
                "/oauth/authorizations",
                auth=(account.email, PASSWORD),
                json={"description": "heroku login -i", "expires_in": 365 * DAY},
            )
        assert response.status_code == 201, response.text
        assert LIMIT - 60 <= response.json()["access_token"]["expires_in"] <= LIMIT


class TestOstiaryCli:
    def test_authorizations_create_refused_over_and_accepted_at_the_maximum(
        self, limited: ServerProcess, limited_factory: Factory, tmp_path: Path
    ) -> None:
        account = limited_factory.account()
        home = tmp_path / "home"
        home.mkdir()
        cli = OstiaryCLI(limited, home)
        refused = cli.run(
            "authorizations:create", "-s", "read", "-e", str(LIMIT + 1), api_key=account.api_key
        )
        assert refused.returncode != 0
        assert "over the longest lifetime this account allows, 90 days" in refused.stderr
        assert "OSTIARY_TOKEN_MAX_LIFETIME" in refused.stderr
        made = cli.run(
            "authorizations:create",
            "-s",
            "read",
            "-e",
            str(LIMIT),
            "--json",
            api_key=account.api_key,
        )
        assert made.returncode == 0, made.stderr
        assert '"expires_in"' in made.stdout
