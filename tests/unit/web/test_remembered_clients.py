"""The client credentials grant on a client its worker remembers (``ClientMemory``): the client
is read once, not per token, yet every change to it refuses or allows the very next token as
the client stands, whatever was remembered."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import func, select, update

import ostiary.oauth_clients.oauth_storage
import ostiary.oauth_clients.records
from ostiary.accounts.models import Account
from ostiary.app import create_app
from ostiary.clock import utcnow
from ostiary.config import load_settings
from ostiary.events import Event
from ostiary.leaks.records import ReportedToken
from ostiary.leaks.services import respond_to_leak
from ostiary.migrate import upgrade
from ostiary.oauth_clients.records import ClientRecord
from ostiary.tokens.models import AccessToken, Authorization
from tests.support.factories import Factory
from tests.support.in_process import InProcessServer


class Server(InProcessServer):
    """The application in-process, an owner's API key, and how often a client was read."""

    def __init__(self, app: FastAPI, factory: Factory) -> None:
        super().__init__(app, factory)
        self.reads = 0

    def failures_recorded(self, client_id: str) -> int:
        with self.factory.database.unit_of_work(write=False) as session:
            query = select(func.count()).where(
                Event.action == "oauth:client:auth-failure", Event.target_id == client_id
            )
            return session.scalar(query) or 0

    def tokens_stored(self) -> int:
        with self.factory.database.unit_of_work(write=False) as session:
            return len(session.query(AccessToken).all())


@pytest.fixture
def server(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Server]:
    settings = load_settings(data_dir=tmp_path)
    upgrade(settings.effective_database_url)
    served = Server(create_app(settings), Factory(tmp_path))
    read = ostiary.oauth_clients.records.load_client_record

    def counted(database: Any, client_id: str) -> ClientRecord | None:
        served.reads += 1
        return read(database, client_id)

    monkeypatch.setattr(ostiary.oauth_clients.oauth_storage, "load_client_record", counted)
    yield served
    served.factory.close()


def remembered(server: Server, client: dict[str, str], scope: str | None = None) -> None:
    """Two tokens, the client read for the first only: the worker remembers it."""
    server.reads = 0
    for _ in range(2):
        issued = server.token(client["id"], client["secret"], scope)
        assert issued.status_code == 200, issued.text
    assert server.reads == 1


def test_a_client_is_read_once_for_many_tokens(server: Server) -> None:
    client = server.register(["read"])
    stored = server.tokens_stored()
    remembered(server, client)
    for _ in range(3):
        assert server.token(client["id"], client["secret"]).status_code == 200
    assert server.reads == 1
    assert server.tokens_stored() == stored + 5


def test_a_wrong_secret_is_checked_against_the_database_every_time(server: Server) -> None:
    client = server.register(["read"])
    remembered(server, client)
    for _ in range(2):
        refused = server.token(client["id"], client["secret"] + "x")
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_client"
    assert server.reads == 3


def test_a_rotated_secret_is_refused_at_once_and_the_new_one_works(server: Server) -> None:
    client = server.register(["read"])
    remembered(server, client)
    rotated = server.api("POST", f"/oauth/clients/{client['id']}/actions/rotate-credentials")
    assert rotated.status_code == 200, rotated.text
    stored = server.tokens_stored()
    for _ in range(2):
        refused = server.token(client["id"], client["secret"])
        assert refused.status_code == 401
        assert refused.json()["error"] == "invalid_client"
        assert "access_token" not in refused.text
    assert server.tokens_stored() == stored
    assert server.token(client["id"], rotated.json()["secret"]).status_code == 200


def test_a_secret_reported_leaked_is_refused_at_once(server: Server) -> None:
    client = server.register(["read"])
    remembered(server, client)
    report = ReportedToken(
        token=client["secret"],
        type="ostiary_oauth_client_secret",
        url="https://gist.example/leak",
        source="content",
    )
    with server.factory.database.unit_of_work(write=True) as session:
        assert respond_to_leak(
            server.factory.unit(session), report, where="public-report", tell_if_revoked=False
        )
    stored = server.tokens_stored()
    refused = server.token(client["id"], client["secret"])
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"
    assert server.tokens_stored() == stored


def test_a_secret_whose_grace_ended_is_refused_and_counted_once(server: Server) -> None:
    client = server.register(["read"])
    rotated = server.api(
        "POST",
        f"/oauth/clients/{client['id']}/actions/rotate-credentials",
        {"grace_period": 1},
    )
    assert rotated.status_code == 200, rotated.text
    remembered(server, client)  # the old secret, during its grace
    time.sleep(1.1)
    refused = server.token(client["id"], client["secret"])
    assert refused.status_code == 401
    assert server.failures_recorded(client["id"]) == 1  # not tried again on a fresh read
    assert server.reads == 1
    server.token(client["id"], client["secret"])
    assert server.reads == 2  # forgotten: read again
    assert server.token(client["id"], rotated.json()["secret"]).status_code == 200


def test_suspended_credentials_are_refused_once_not_served_again(server: Server) -> None:
    client = server.register(["read"])
    remembered(server, client)
    with server.factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(Authorization)
            .where(Authorization.client_id == client["id"])
            .values(suspended_at=utcnow(), suspended_by="alert-1")
        )
    stored = server.tokens_stored()
    refused = server.token(client["id"], client["secret"])
    assert refused.status_code == 401
    assert "suspended after a security alert (alert alert-1)" in refused.json()["error_description"]
    assert server.tokens_stored() == stored
    assert server.reads == 1  # the suspension is read where the token is stored: no second pass


def test_a_deleted_client_gets_no_token(server: Server) -> None:
    client = server.register(["read"])
    remembered(server, client)
    assert server.api("DELETE", f"/oauth/clients/{client['id']}").status_code == 200
    refused = server.token(client["id"], client["secret"])
    assert refused.status_code == 401
    assert refused.json()["error"] == "invalid_client"


def test_a_scope_taken_from_the_client_is_refused_at_once(server: Server) -> None:
    client = server.register(["identity", "read"])
    remembered(server, client, scope="read")
    narrowed = server.api(
        "PATCH", f"/oauth/clients/{client['id']}", {"client_credentials_scopes": ["identity"]}
    )
    assert narrowed.status_code == 200, narrowed.text
    refused = server.token(client["id"], client["secret"], scope="read")
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "invalid_grant",
        "error_description": "The requested scope exceeds what this client was allowed.",
    }
    issued = server.token(client["id"], client["secret"], scope="identity")
    assert issued.status_code == 200
    assert issued.json()["scope"] == "identity"


def test_a_disabled_owner_gets_no_token_and_an_enabled_one_gets_it_at_once(
    server: Server,
) -> None:
    client = server.register(["read"])
    remembered(server, client)
    with server.factory.database.unit_of_work(write=True) as session:
        session.execute(update(Account).values(disabled_at=utcnow()))
    refused = server.token(client["id"], client["secret"])
    assert refused.status_code == 400
    assert refused.json()["error_description"] == "The account that owns this client is disabled."
    # The worker remembers the client as refused now; enabling the owner is seen at once too.
    server.token(client["id"], client["secret"])
    with server.factory.database.unit_of_work(write=True) as session:
        session.execute(update(Account).values(disabled_at=None))
    assert server.token(client["id"], client["secret"]).status_code == 200


def test_a_renamed_client_goes_on_getting_tokens(server: Server) -> None:
    client = server.register(["read"])
    remembered(server, client)
    renamed = server.api("PATCH", f"/oauth/clients/{client['id']}", {"name": "fleet two"})
    assert renamed.status_code == 200, renamed.text
    for _ in range(2):
        assert server.token(client["id"], client["secret"]).status_code == 200
    assert server.reads == 2  # read again once, when the change was seen, then remembered
