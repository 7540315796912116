"""Introspection's client and token read in one lookup (``tokens.descriptions``), on both
backends: the answers are those of two lookups, in one."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ostiary.app import create_app
from ostiary.config import load_settings
from ostiary.prepared import PreparedQuery
from ostiary.tokens.models import Authorization, AuthorizationKind
from ostiary.tokens.services import issue_refresh_token
from tests.support.in_process import InProcessServer
from tests.support.postgres import migrated_factory


class Introspecting(InProcessServer):
    """The application in-process, an owner, a confidential client of theirs and its token."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        client = self.register(["read"])
        self.auth = (client["id"], client["secret"])
        self.client_id = client["id"]
        issued = self.token(*self.auth, "read")
        assert issued.status_code == 200, issued.text
        self.access_token: str = issued.json()["access_token"]

    def introspect(self, token: str, auth: tuple[str, str] | None = None) -> httpx.Response:
        """The introspection endpoint's answer for ``token``, the client authenticated."""
        return self.send("POST", "/oauth/introspect", data={"token": token}, auth=auth or self.auth)

    def refresh_token(self) -> str:
        """A refresh token of an OAuth grant of the owner's to the client."""
        with self.factory.database.unit_of_work(write=True) as session:
            authorization = Authorization(
                account_id=self.owner.id,
                kind=AuthorizationKind.OAUTH,
                scopes=["identity"],
                client_id=self.client_id,
                description="a grant",
            )
            session.add(authorization)
            session.flush()
            return issue_refresh_token(self.factory.unit(session), authorization).plaintext


@pytest.fixture(params=["sqlite", "postgresql"])
def server(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Introspecting]:
    with migrated_factory(request.param, tmp_path, "ostiary_describe") as factory:
        app = create_app(load_settings(data_dir=tmp_path, database_url=factory.database.url))
        try:
            yield Introspecting(app, factory)
        finally:
            app.state.services.database.dispose()


@pytest.fixture
def lookups(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The prepared lookups run from now on, each as the names of its parameters."""
    ran: list[str] = []
    first = PreparedQuery._first

    def counted(query: PreparedQuery, params: dict[str, Any]) -> tuple[Any, ...] | None:
        ran.append(" ".join(sorted(params)))
        return first(query, params)

    monkeypatch.setattr(PreparedQuery, "_first", counted)
    return ran


def test_an_access_token_is_described_with_one_lookup(
    server: Introspecting, lookups: list[str]
) -> None:
    answer = server.introspect(server.access_token)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["active"] is True
    assert body["client_id"] == server.client_id
    assert body["sub"] == server.owner.id
    assert body["username"] == server.owner.email
    assert body["scope"] == "read"
    assert lookups == ["client_id token_hash"]


def test_a_refresh_token_is_still_described(server: Introspecting, lookups: list[str]) -> None:
    body = server.introspect(server.refresh_token()).json()
    assert body["active"] is True
    assert body["token_type"] == "refresh_token"
    assert body["scope"] == "identity"
    # No access token has that hash: the refresh tokens are looked up as well.
    assert lookups == ["client_id token_hash", "token_hash"]


def test_an_unknown_token_is_inactive(server: Introspecting) -> None:
    assert server.introspect("osto_" + "x" * 36).json() == {"active": False}


def test_a_wrong_secret_is_refused_whatever_the_token(server: Introspecting) -> None:
    refused = server.introspect(server.access_token, (server.client_id, "oscs_" + "0" * 40))
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    assert "active" not in refused.json()


def test_an_unknown_client_is_refused(server: Introspecting) -> None:
    refused = server.introspect(server.access_token, ("no-such-client", "secret"))
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"


def test_another_accounts_token_is_inactive(server: Introspecting) -> None:
    other = server.factory.account("other")
    _, token = server.factory.token(other, ["read"])
    assert server.introspect(token).json() == {"active": False}
    # The owner's own token (their API key) is the client's business: its owner's.
    assert server.introspect(server.owner.api_key).json()["active"] is True
