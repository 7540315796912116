"""A client changed while a client-credentials token is being stored: the token is refused, on
both backends, and the change is neither overtaken nor deadlocked by a stream of tokens.

The token endpoint authenticates the client from what is committed, then stores the token in a
transaction of its own, which compares the client as it stands with the one it authenticated
(``tokens.client_credentials``). A rotation, a leak report or a suspension that has not yet
committed when that comparison reads the client must not let the token through once it
commits: on PostgreSQL the store holds the client's change lock shared, which every change
of the client holds exclusively (``oauth_clients.queries``), and reads the client once it has
it, and it reads the authorizations a suspension writes locked before it makes one; on SQLite
the writer lock orders them all. Without it, a leaked secret asking for a new scope set got a
token in a fresh authorization the leak's revocation had not seen: live after the leak.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.orm import Session

from ostiary.alerts.records import Anomaly
from ostiary.alerts.rules import SUSPENDING_RULES
from ostiary.alerts.services import raise_alert, set_policy
from ostiary.app import create_app
from ostiary.clock import utcnow
from ostiary.config import load_settings
from ostiary.events import SYSTEM
from ostiary.group_commit import Work
from ostiary.leaks.records import ReportedToken
from ostiary.leaks.services import respond_to_leak
from ostiary.oauth_clients.errors import ClientChanged
from ostiary.oauth_clients.queries import WAIT_FOR_CHANGES, find_client
from ostiary.oauth_clients.records import load_client_record
from ostiary.oauth_clients.services import rotate_secret
from ostiary.tokens.client_credentials import ClientCredentialsTokens
from ostiary.tokens.models import Authorization
from ostiary.unit import Unit
from tests.support.factories import Factory
from tests.support.in_process import V3, InProcessServer
from tests.support.own_loop import run_in_own_loop
from tests.support.postgres import migrated_factory, wait_for_lock_waiters

T = TypeVar("T")
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

    def live_authorizations(self, *client_ids: str, unsuspended: bool = False) -> int:
        """The client-credentials authorizations of these clients (the test's own by default)
        not revoked, and with ``unsuspended`` not suspended either."""
        query = select(Authorization).where(
            Authorization.client_id.in_(client_ids or [self.client_id]),
            Authorization.revoked_at.is_(None),
        )
        if unsuspended:
            query = query.where(Authorization.suspended_at.is_(None))
        with self.factory.database.unit_of_work(write=False) as session:
            return len(session.scalars(query).all())

    def token_during(self, change: Change, scope: str) -> httpx.Response:
        """A token asked for while ``change`` is made in a write transaction held open."""
        return self.answer_during(change, lambda: self.token_for(scope))

    def answer_during(self, change: Change, ask: Callable[[], httpx.Response]) -> httpx.Response:
        """``ask``'s answer, asked while ``change`` is made in a write transaction held open:
        the request must wait for that transaction, which then commits."""
        with held_open(self.write_unit, self.made(change)):
            request = Asked(ask)
            # The request reads what is committed, then waits for the change.
            assert self.waits(request), f"the answer was decided before the change: {request}"
        return request.answer()

    def write_unit(self) -> AbstractContextManager[Session]:
        """A write transaction of the ORM's on the test's database."""
        return self.factory.database.unit_of_work(write=True)

    def made(self, change: Change) -> Callable[[Session], None]:
        """``change`` as a write session makes it, its statements sent (flushed)."""

        def make(session: Session) -> None:
            change(self.factory.unit(session))
            session.flush()

        return make

    def staged_token(self, client_id: str, scopes: list[str]) -> Work:
        """The writes of a token of ``client_id``'s, staged as the token endpoint stages them
        (``tokens.client_credentials``), for the test to commit."""
        record = load_client_record(self.factory.database, client_id)
        assert record is not None
        tokens = ClientCredentialsTokens(self.factory.hasher, SYSTEM, 3600)
        tokens.issue_client_credentials(record, self.owner.id, scopes)
        return tokens.staged[0]

    def waits(self, request: Asked[Any], count: int = 1) -> bool:
        """Whether ``request`` comes to wait for a lock (``count`` sessions waiting in all):
        seen waiting on PostgreSQL; on SQLite, whose writer lock is a file's, unanswered after
        a second."""
        database = self.factory.database
        if database.is_sqlite:
            return not request.done(timeout=1.0)
        return wait_for_lock_waiters(database.url, count, give_up=request.done)


class Asked(Generic[T]):
    """A request (or any call) made on a thread of its own."""

    def __init__(self, ask: Callable[[], T]) -> None:
        self._answers: list[T] = []
        self._failures: list[BaseException] = []

        def run() -> None:
            try:
                self._answers.append(ask())
            except BaseException as error:  # handed to the test's thread by answer()
                self._failures.append(error)

        self._thread = threading.Thread(target=run)
        self._thread.start()

    def done(self, timeout: float = 0.0) -> bool:
        """Whether it is answered (or failed), waiting up to ``timeout`` seconds."""
        self._thread.join(timeout=timeout)
        return not self._thread.is_alive()

    def answer(self) -> T:
        """Its answer, once it comes."""
        assert self.done(timeout=30), "the request was never answered"
        if self._failures:
            raise self._failures[0]
        return self._answers[0]

    def __repr__(self) -> str:
        return f"Asked(answers={self._answers}, failures={self._failures})"


@contextmanager
def held_open(
    transaction: Callable[[], AbstractContextManager[T]], change: Callable[[T], object]
) -> Iterator[None]:
    """``change`` made in a write ``transaction()`` on a thread of its own, which stays open
    while the block runs and commits when it ends."""
    changed, release = threading.Event(), threading.Event()
    failures: list[BaseException] = []

    def hold() -> None:
        try:
            with transaction() as opened:
                change(opened)
                changed.set()
                release.wait(timeout=30)
        except BaseException as error:
            failures.append(error)
            changed.set()

    holder = threading.Thread(target=hold)
    holder.start()
    assert changed.wait(timeout=30)
    assert not failures, failures
    try:
        yield
    finally:
        release.set()
        holder.join(timeout=30)
    assert not failures, failures


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


@contextmanager
def served_on(dialect: str, data_dir: Path) -> Iterator[Served]:
    """The application in-process on a fresh database of ``dialect``."""
    with migrated_factory(dialect, data_dir, "ostiary_race") as factory:
        app = create_app(load_settings(data_dir=data_dir, database_url=factory.database.url))
        try:
            yield Served(app, factory)
        finally:
            app.state.services.database.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def served(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Served]:
    with served_on(request.param, tmp_path) as made:
        yield made


@pytest.fixture
def served_on_postgresql(tmp_path: Path) -> Iterator[Served]:
    """Only PostgreSQL's writers run side by side (SQLite has one at a time)."""
    with served_on("postgresql", tmp_path) as made:
        yield made


def test_a_secret_rotated_while_its_token_is_stored_refuses_the_token(served: Served) -> None:
    assert served.token_for("read").status_code == 200  # the worker now remembers the client

    def rotate(unit: Unit) -> None:
        client = find_client(unit.session, served.client_id, for_change=True)
        rotate_secret(unit, client, actor_id=served.owner.id)

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


def test_a_suspension_while_a_token_is_stored_refuses_the_token(served: Served) -> None:
    assert served.token_for("read").status_code == 200
    rule = SUSPENDING_RULES[0]
    with served.write_unit() as session:
        set_policy(served.factory.unit(session), served.owner.id, [rule])
        authorization_id = session.scalar(
            select(Authorization.id).where(Authorization.client_id == served.client_id)
        )
    assert authorization_id is not None

    def suspend(unit: Unit) -> None:
        anomaly = Anomaly(rule, served.owner.id, authorization_id, utcnow(), {"hour": 1})
        raised = raise_alert(unit.session, anomaly, SYSTEM)
        assert raised is not None
        assert raised.suspended

    # Another scope set: the store would make a fresh authorization, outside the suspension.
    refused = served.token_during(suspend, "identity")
    assert refused.status_code == 401, refused.text
    assert "suspended after a security alert" in refused.json()["error_description"]
    assert served.live_authorizations(unsuspended=True) == 0


def test_a_change_waiting_for_a_token_is_not_overtaken_by_later_tokens(
    served_on_postgresql: Served,
) -> None:
    served = served_on_postgresql
    assert served.token_for("read").status_code == 200
    rotate = f"/oauth/clients/{served.client_id}/actions/rotate-credentials"
    with held_open(
        served.factory.database.direct_write, served.staged_token(served.client_id, ["read"])
    ):
        rotation = Asked(lambda: served.api("POST", rotate, {}))
        assert served.waits(rotation), rotation
        # A token asked for now must queue behind the rotation: PostgreSQL grants a row's
        # FOR SHARE past a queued UPDATE, so tokens in a steady stream could hold it off.
        token = Asked(lambda: served.token_for("read"))
        assert served.waits(token, count=2), f"the token overtook the rotation: {token}"
    assert rotation.answer().status_code == 200
    refused = token.answer()
    assert refused.status_code == 401, refused.text  # decided on the rotated client


def test_a_change_and_a_token_making_an_authorization_do_not_deadlock(
    served_on_postgresql: Served,
) -> None:
    # The store holds the change lock shared, then inserts an authorization (the first token of
    # a scope set), whose foreign key takes a key share of the client's row. A change that
    # locked that row before it waited for the change lock would deadlock with it.
    served = served_on_postgresql
    database = served.factory.database
    store = served.staged_token(served.client_id, ["identity"])
    locked, go = threading.Event(), threading.Event()

    def storing() -> None:
        with database.direct_write() as transaction:
            transaction.first(WAIT_FOR_CHANGES, client_id=served.client_id)  # the store's start
            locked.set()
            assert go.wait(timeout=30)
            store(transaction)

    stored = Asked(storing)
    assert locked.wait(timeout=30)
    rotate = f"/oauth/clients/{served.client_id}/actions/rotate-credentials"
    rotation = Asked(lambda: served.api("POST", rotate, {}))
    try:
        assert served.waits(rotation), rotation
    finally:
        go.set()
    stored.answer()  # committed: no deadlock
    assert rotation.answer().status_code == 200
    assert served.token_for("identity").status_code == 401  # the rotated secret


def test_another_accounts_change_of_a_client_waits_for_none_of_its_tokens(
    served_on_postgresql: Served,
) -> None:
    # Client ids are not secret: a lock taken before the owner is checked would let anyone hold
    # up a client's tokens by asking to rotate it.
    served = served_on_postgresql
    stranger = served.factory.account("stranger")
    headers = {"Accept": V3, "Authorization": f"Bearer {stranger.api_key}"}
    rotate = f"/oauth/clients/{served.client_id}/actions/rotate-credentials"
    store = served.staged_token(served.client_id, ["read"])
    with held_open(served.factory.database.direct_write, store):  # a token being stored
        refused = Asked(lambda: served.send("POST", rotate, headers=headers, json={}))
        assert refused.done(timeout=10), "the stranger's request waited for the client's lock"
    assert refused.answer().status_code == 404


def test_a_token_batch_waiting_for_a_change_holds_no_other_clients_lock(
    served_on_postgresql: Served,
) -> None:
    # A leak report of two secrets at once (GitHub's) holds the change lock of one client and
    # then wants the other's. A batch of both clients' tokens that held the other's while it
    # waited for the first would deadlock with it: PostgreSQL ends one of them after a second.
    served = served_on_postgresql
    other = served.register(["read"])
    works = [
        served.staged_token(other["id"], ["read"]),
        served.staged_token(served.client_id, ["read"]),
    ]
    group_commit = served.factory.database.group_commit
    reported_first, report_second = threading.Event(), threading.Event()

    def report_both() -> None:
        with served.write_unit() as session:
            served.made(leak_report_of(served.secret))(session)
            reported_first.set()
            assert report_second.wait(timeout=30)
            served.made(leak_report_of(other["secret"]))(session)

    async def batch() -> list[object]:
        runs = [group_commit.run(work) for work in works]  # one batch: queued in one turn
        return list(await asyncio.gather(*runs, return_exceptions=True))

    reporting = Asked(report_both)
    assert reported_first.wait(timeout=30)
    stored = Asked(lambda: run_in_own_loop(batch))
    try:
        assert served.waits(stored), f"the batch did not wait for the report: {stored}"
        assert waiters_holding_advisory_locks(served.factory.database.url) == 0
    finally:
        report_second.set()
    reporting.answer()  # no deadlock: the report commits
    first, second = stored.answer()
    assert first is None, first  # stored before the report reached that client
    assert isinstance(second, ClientChanged), second
    # The report revoked what was stored.
    assert served.live_authorizations(other["id"], served.client_id) == 0


def waiters_holding_advisory_locks(url: str) -> int:
    """The sessions of the database at ``url`` that wait for an advisory lock while they hold
    another: each half of a deadlock in waiting."""
    import psycopg

    query = (
        "SELECT count(DISTINCT waiting.pid) FROM pg_locks waiting"
        " JOIN pg_locks held ON held.pid = waiting.pid"
        " WHERE waiting.locktype = 'advisory' AND NOT waiting.granted"
        " AND held.locktype = 'advisory' AND held.granted"
    )
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as connection:
        row = connection.execute(query).fetchone()
    assert row is not None
    return int(row[0])
