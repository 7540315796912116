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

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from ostiary.app import create_app
from ostiary.config import load_settings
from ostiary.leaks.records import ReportedToken
from ostiary.leaks.services import respond_to_leak
from ostiary.oauth_clients.queries import find_client
from ostiary.oauth_clients.services import rotate_secret
from ostiary.tokens.models import Authorization
from ostiary.unit import Unit
from tests.support.factories import Factory
from tests.support.in_process import InProcessServer
from tests.support.postgres import migrated_factory

Change = Callable[[Unit], object]


class Served(InProcessServer):
    """The application in-process on one database, an owner, and a client of theirs."""

    def __init__(self, app: FastAPI, factory: Factory) -> None:
        super().__init__(app, factory)
        client = self.register(["read", "identity"])
        self.client_id, self.secret = client["id"], client["secret"]

    def token_for(self, scope: str) -> httpx.Response:
        """A token of the client's, with its secret as it stands in this test."""
        return self.token(self.client_id, self.secret, scope)

    def live_authorizations(self) -> int:
        """The client's client-credentials authorizations not revoked."""
        with self.factory.database.unit_of_work(write=False) as session:
            query = select(Authorization).where(
                Authorization.client_id == self.client_id, Authorization.revoked_at.is_(None)
            )
            return len(session.scalars(query).all())

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


def leak_report_of(secret: str) -> Change:
    """A public report of ``secret`` found leaked, answered as the leak endpoint answers it."""
    report = ReportedToken(
        token=secret,
        type="ostiary_oauth_client_secret",
        url="https://gist.example/leak",
        source="content",
    )

    def report_leak(unit: Unit) -> None:
        assert respond_to_leak(unit, report, where="public-report", tell_if_revoked=False)

    return report_leak


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    with migrated_factory(request.param, tmp_path, "ostiary_race") as factory:
        app = create_app(load_settings(data_dir=tmp_path, database_url=factory.database.url))
        try:
            yield Served(app, factory)
        finally:
            app.state.services.database.dispose()


def test_a_secret_rotated_while_its_token_is_stored_refuses_the_token(served: Served) -> None:
    assert served.token_for("read").status_code == 200  # the worker now remembers the client

    def rotate(unit: Unit) -> None:
        rotate_secret(unit, find_client(unit.session, served.client_id), actor_id=served.owner.id)

    refused = served.token_during(rotate, "read")
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"] == "invalid_client"
    assert served.token_for("read").status_code == 401


def test_a_leaked_secret_gets_no_token_that_outlives_the_leak_report(served: Served) -> None:
    assert served.token_for("read").status_code == 200
    # Another scope set: the store would make a fresh authorization the report never saw.
    refused = served.token_during(leak_report_of(served.secret), "identity")
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"] == "invalid_client"
    assert served.live_authorizations() == 0


def test_a_rotation_racing_a_leak_report_gives_the_leaked_secret_no_grace(served: Served) -> None:
    # The owner rotates with a grace as the report lands: the rotation must decide on the
    # client as the report left it (no secret), not give the retired one an hour more.
    path = f"/oauth/clients/{served.client_id}/actions/rotate-credentials"
    rotated = served.answer_during(
        leak_report_of(served.secret), lambda: served.api("POST", path, {"grace_period": 3600})
    )
    assert rotated.status_code == 200, rotated.text
    assert served.token_for("read").status_code == 401  # the leaked secret
    served.secret = rotated.json()["secret"]
    assert served.token_for("read").status_code == 200
