"""A client secret retired while a client-credentials token is being stored: the token is
refused, on both backends.

The token endpoint authenticates the client from what is committed, then stores the token in a
transaction of its own, which compares the client as it stands with the one it authenticated
(``tokens.client_credentials``). A rotation or a leak report that has changed the secret but
not yet committed when that comparison reads the client must not let the token through once it
commits: on PostgreSQL the client's row is read FOR SHARE (the store waits for the change and
reads its outcome), on SQLite the writer lock orders the two. Without the lock, a leaked secret
asking for a new scope set got a token in a fresh authorization the leak's revocation had not
seen: live after the leak.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from ostiary.app import create_app
from ostiary.config import load_settings
from ostiary.leaks.records import ReportedToken
from ostiary.leaks.services import respond_to_leak
from ostiary.migrate import upgrade
from ostiary.oauth_clients.queries import find_client
from ostiary.oauth_clients.services import rotate_secret
from ostiary.tokens.models import Authorization
from ostiary.unit import Unit
from tests.support.factories import Factory
from tests.support.in_process import send
from tests.support.postgres import fresh_database

V3 = "application/vnd.heroku+json; version=3"

Change = Callable[[Unit], object]


class Served:
    """The application in-process on one database, an owner, and a client of theirs."""

    def __init__(self, app: FastAPI, factory: Factory) -> None:
        self.app = app
        self.factory = factory
        self.owner_id = self.owner_key = ""
        owner = factory.account()
        self.owner_id = owner.id
        self.owner_key = owner.api_key
        created = self.send(
            "POST",
            "/oauth/clients",
            headers={"Accept": V3, "Authorization": f"Bearer {owner.api_key}"},
            json={
                "name": "fleet",
                "redirect_uri": "https://example.com/cb",
                "client_credentials_scopes": ["read", "identity"],
            },
        )
        assert created.status_code == 201, created.text
        self.client_id: str = created.json()["id"]
        self.secret: str = created.json()["secret"]

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        return send(self.app, method, path, **kwargs)

    def token_for(self, scope: str) -> httpx.Response:
        form = {"grant_type": "client_credentials", "scope": scope}
        return self.send("POST", "/oauth/token", data=form, auth=(self.client_id, self.secret))

    def live_authorizations(self) -> int:
        """The client's client-credentials authorizations not revoked."""
        with self.factory.database.unit_of_work(write=False) as session:
            query = select(Authorization).where(
                Authorization.client_id == self.client_id, Authorization.revoked_at.is_(None)
            )
            return len(session.scalars(query).all())

    def api(self, method: str, path: str, body: object = None) -> httpx.Response:
        headers = {"Accept": V3, "Authorization": f"Bearer {self.owner_key}"}
        return self.send(method, path, headers=headers, json=body)

    def token_during(self, change: Change, scope: str) -> httpx.Response:
        """A token asked for while ``change`` is made in a write transaction held open."""
        return self.answer_during(change, lambda: self.token_for(scope))

    def answer_during(self, change: Change, ask: Callable[[], httpx.Response]) -> httpx.Response:
        """``ask``'s answer, asked while ``change`` is made in a write transaction held open:
        the request must wait for that transaction, which then commits."""
        changed, release = threading.Event(), threading.Event()
        failures: list[BaseException] = []

        def hold() -> None:
            try:
                with self.factory.database.unit_of_work(write=True) as session:
                    change(self.factory.unit(session))
                    session.flush()
                    changed.set()
                    release.wait(timeout=30)
            except BaseException as error:
                failures.append(error)
                changed.set()

        holder = threading.Thread(target=hold)
        holder.start()
        assert changed.wait(timeout=30)
        assert not failures, failures
        answers: list[httpx.Response] = []
        request = threading.Thread(target=lambda: answers.append(ask()))
        try:
            request.start()
            # The request reads what is committed, then waits for the change (a row lock on
            # PostgreSQL, the writer lock on SQLite).
            request.join(timeout=1.0)
            assert request.is_alive(), f"the token was decided before the change: {answers}"
        finally:
            release.set()
            holder.join(timeout=30)
            request.join(timeout=30)
        assert not failures, failures
        assert not request.is_alive()
        return answers[0]


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    if request.param == "sqlite":
        settings = load_settings(data_dir=tmp_path)
        url = settings.effective_database_url
        upgrade(url)
        factory = Factory(tmp_path)
        app = create_app(settings)
        try:
            yield Served(app, factory)
        finally:
            app.state.services.database.dispose()
            factory.close()
        return
    with fresh_database("ostiary_race") as url:
        upgrade(url)
        factory = Factory(tmp_path, database_url=url)
        app = create_app(load_settings(data_dir=tmp_path, database_url=url))
        try:
            yield Served(app, factory)
        finally:
            app.state.services.database.dispose()
            factory.close()


def test_a_secret_rotated_while_its_token_is_stored_refuses_the_token(served: Served) -> None:
    assert served.token_for("read").status_code == 200  # the worker now remembers the client

    def rotate(unit: Unit) -> None:
        rotate_secret(unit, find_client(unit.session, served.client_id), actor_id=served.owner_id)

    refused = served.token_during(rotate, "read")
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"] == "invalid_client"
    assert served.token_for("read").status_code == 401


def test_a_leaked_secret_gets_no_token_that_outlives_the_leak_report(served: Served) -> None:
    assert served.token_for("read").status_code == 200
    report = ReportedToken(
        token=served.secret,
        type="ostiary_oauth_client_secret",
        url="https://gist.example/x",
        source="content",
    )

    def report_leak(unit: Unit) -> None:
        assert respond_to_leak(unit, report, where="public-report", tell_if_revoked=False)

    # Another scope set: the store would make a fresh authorization the report never saw.
    refused = served.token_during(report_leak, "identity")
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"] == "invalid_client"
    assert served.live_authorizations() == 0


def test_a_rotation_racing_a_leak_report_gives_the_leaked_secret_no_grace(served: Served) -> None:
    leaked = served.secret
    report = ReportedToken(
        token=leaked,
        type="ostiary_oauth_client_secret",
        url="https://gist.example/y",
        source="content",
    )

    def report_leak(unit: Unit) -> None:
        assert respond_to_leak(unit, report, where="public-report", tell_if_revoked=False)

    # The owner rotates with a grace as the report lands: the rotation must decide on the
    # client as the report left it (no secret), not give the retired one an hour more.
    path = f"/oauth/clients/{served.client_id}/actions/rotate-credentials"
    rotated = served.answer_during(
        report_leak, lambda: served.api("POST", path, {"grace_period": 3600})
    )
    assert rotated.status_code == 200, rotated.text
    assert served.token_for("read").status_code == 401  # the leaked secret
    served.secret = rotated.json()["secret"]
    assert served.token_for("read").status_code == 200
