"""Prepared statements, read models and direct transactions (ostiary.prepared,
Database.direct_write) on a real SQLite file, and the lookups on PostgreSQL too (where they run
through libpq, ``ostiary.libpq_lookup``): what they store is what the ORM reads (defaults
included), what a read model reads is what the ORM reads, a failed transaction leaves nothing
behind, an INSERT missing a required column never runs, lookups see every commit, and writers queue
instead of failing."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import bindparam, func, insert, select

from ostiary.accounts.models import Account
from ostiary.accounts.records import ACCOUNT_SNAPSHOT, AccountSnapshot
from ostiary.clock import utcnow
from ostiary.db import Database, WriterLock, table_of
from ostiary.events import INSERT_EVENT, SYSTEM, Event, event_row
from ostiary.migrate import upgrade
from ostiary.prepared import MissingColumnError, ReadModel, as_list, as_utc
from ostiary.security.hashing import SecretHasher
from ostiary.tokens.models import Authorization
from ostiary.tokens.owners import create_account
from ostiary.unit import Unit
from tests.support.postgres import fresh_database

_BY_ACTION = select(table_of(Event).c.id, table_of(Event).c.details).where(
    table_of(Event).c.action == bindparam("action")
)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_database(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """A migrated database on each backend (PostgreSQL: a fresh one, dropped afterwards)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'ostiary.db'}"
        upgrade(url)
        db = Database(url)
        yield db
        db.dispose()
        return
    with fresh_database("ostiary_prepared") as url:
        upgrade(url)
        db = Database(url)
        yield db
        db.dispose()


def _event(action: str, details: dict[str, object] | None = None) -> dict[str, object]:
    return event_row(SYSTEM, action, actor_id=None, details=details)


def _account(database: Database, email: str = "reader@example.com") -> Account:
    with database.unit_of_work(write=True) as session:
        unit = Unit(session=session, hasher=SecretHasher(b"k" * 32), context=SYSTEM)
        created = create_account(unit, email=email, password_hash="x")
        session.flush()
        return created.account


_accounts = table_of(Account)
_authorizations = table_of(Authorization)
_INSERT_AUTHORIZATION = insert(_authorizations)
_ACCOUNT_BY_ID = ACCOUNT_SNAPSHOT.select().where(_accounts.c.id == bindparam("account_id"))


@dataclass(frozen=True, slots=True)
class _Owned:
    """A read model over two tables: constants, computed columns and a nested model."""

    kind: str
    description: str
    scopes: list[str]
    expired: bool
    last_used_at: datetime | None
    created_at: datetime
    source: str
    account: AccountSnapshot


_OWNED = ReadModel(
    _Owned,
    _authorizations,
    expired=_authorizations.c.expires_at < func.current_timestamp(),
    source="direct",
    account=ACCOUNT_SNAPSHOT,
)
_OWNED_BY_ID = (
    _OWNED.select()
    .join_from(_authorizations, _accounts, _authorizations.c.account_id == _accounts.c.id)
    .where(_authorizations.c.id == bindparam("authorization_id"))
)


def test_a_read_model_reads_what_the_orm_reads(any_database: Database) -> None:
    account = _account(any_database)
    found = any_database.prepared(_ACCOUNT_BY_ID).first_as(ACCOUNT_SNAPSHOT, account_id=account.id)
    assert found == AccountSnapshot(
        id=account.id,
        email="reader@example.com",
        name=None,
        allow_tracking=True,
        beta=False,
        created_at=account.created_at,
        updated_at=account.updated_at,
        last_login=None,
    )
    assert found.created_at.tzinfo is not None  # SQLite hands back naive ISO text
    assert (
        any_database.prepared(_ACCOUNT_BY_ID).first_as(ACCOUNT_SNAPSHOT, account_id="none") is None
    )
    with any_database.unit_of_work(write=False) as session:
        through_session = ACCOUNT_SNAPSHOT.first_of(
            session.execute(_ACCOUNT_BY_ID, {"account_id": account.id})
        )
    assert through_session == found


def test_a_read_model_converts_by_field_type_across_tables(any_database: Database) -> None:
    account = _account(any_database)
    with any_database.direct_write() as transaction:
        created = transaction.first(
            _INSERT_AUTHORIZATION.returning(_authorizations.c.id),
            account_id=account.id,
            kind="personal",
            scopes=["read", "identity"],
            expires_at=utcnow() - timedelta(minutes=1),
        )
    assert created is not None
    found = any_database.prepared(_OWNED_BY_ID).first_as(_OWNED, authorization_id=created[0])
    assert found is not None
    assert found.scopes == ["read", "identity"]  # JSON text from SQLite, a list from psycopg
    assert found.expired is True  # an integer from SQLite, a bool from PostgreSQL
    assert found.last_used_at is None
    assert found.created_at.tzinfo is UTC
    assert found.source == "direct"
    assert found.account.email == "reader@example.com"
    assert found.account.created_at == account.created_at


def test_rows_are_read_by_label_not_position() -> None:
    moment = datetime(2026, 11, 28, 12, 0, 1, tzinfo=UTC)
    labels = [column.key for column in ACCOUNT_SNAPSHOT.columns()]
    values = {
        "id": "a1",
        "email": "e@example.com",
        "name": None,
        "allow_tracking": 1,
        "beta": 0,
        "created_at": "2026-11-28 12:00:01.000000",
        "updated_at": moment.replace(tzinfo=None),  # PostgreSQL: naive UTC
        "last_login": None,
        "email_verified_at": None,
        "disabled_at": None,
    }
    shuffled = [*reversed(labels), "unrelated"]
    row = [*(values[label] for label in reversed(labels)), "ignored"]
    found = ACCOUNT_SNAPSHOT.reader(shuffled)(row)
    assert found == AccountSnapshot(
        id="a1",
        email="e@example.com",
        name=None,
        allow_tracking=True,
        beta=False,
        created_at=moment,
        updated_at=moment,
        last_login=None,
    )
    with pytest.raises(KeyError, match="disabled_at"):
        ACCOUNT_SNAPSHOT.reader(labels[:-1])


def test_a_read_model_must_say_what_every_field_reads() -> None:
    with pytest.raises(TypeError, match="expired reads no column"):
        ReadModel(_Owned, _authorizations, source="x", account=ACCOUNT_SNAPSHOT)
    with pytest.raises(TypeError, match="has no field colour"):
        ReadModel(AccountSnapshot, _accounts, colour=_accounts.c.name)


def test_a_direct_insert_gets_the_models_defaults_anew_each_time(database: Database) -> None:
    account = _account(database)
    before = utcnow()
    with database.direct_write() as transaction:
        for _ in range(2):
            transaction.execute(
                _INSERT_AUTHORIZATION, account_id=account.id, kind="personal", scopes=["read"]
            )
    with database.unit_of_work(write=False) as session:
        stored = list(
            session.scalars(select(Authorization).where(Authorization.kind == "personal"))
        )
    assert len(stored) == 2
    assert stored[0].id != stored[1].id
    for authorization in stored:
        assert uuid.UUID(authorization.id)
        assert authorization.description == ""
        assert authorization.refresh_generation == 0
        assert before <= authorization.created_at <= utcnow()
        assert before <= authorization.updated_at <= utcnow()
        assert authorization.revoked_at is None


def test_a_direct_insert_without_a_required_column_never_runs(database: Database) -> None:
    """``kind`` is not nullable and has no default: leaving it out fails when the statement is
    compiled, before anything reaches the database."""
    account = _account(database)
    with (
        pytest.raises(MissingColumnError, match="leaves out kind"),
        database.direct_write() as transaction,
    ):
        transaction.execute(_INSERT_AUTHORIZATION, account_id=account.id, scopes=["read"])
    with database.unit_of_work(write=False) as session:
        kinds = session.scalars(select(Authorization.kind)).all()
    assert kinds == ["api_key"]  # the account's own key; nothing from the failed insert


def test_a_direct_write_reads_back_through_the_orm_unchanged(database: Database) -> None:
    row = _event("test:direct", {"scope": ["read", "identity"]})
    with database.direct_write() as transaction:
        transaction.execute(INSERT_EVENT, **row)
    with database.unit_of_work(write=False) as session:
        stored = session.scalar(select(Event).where(Event.id == row["id"]))
    assert stored is not None
    assert stored.created_at == row["created_at"]
    assert stored.created_at.tzinfo is not None
    assert stored.details == {"scope": ["read", "identity"]}


def test_a_failed_direct_write_leaves_nothing_and_frees_the_writer(any_database: Database) -> None:
    def fail_after_inserting() -> None:
        with any_database.direct_write() as transaction:
            transaction.execute(INSERT_EVENT, **_event("test:rolled-back"))
            raise RuntimeError("the request failed after its insert")

    with pytest.raises(RuntimeError):
        fail_after_inserting()
    with any_database.direct_write() as transaction:
        assert transaction.first(_BY_ACTION, action="test:rolled-back") is None
        transaction.execute(INSERT_EVENT, **_event("test:after"))
    assert any_database.prepared(_BY_ACTION).first(action="test:after") is not None


def test_a_prepared_lookup_sees_each_new_commit(any_database: Database) -> None:
    lookup = any_database.prepared(_BY_ACTION)
    assert lookup.first(action="test:later") is None
    with any_database.unit_of_work(write=True) as session:
        session.connection().execute(insert(table_of(Event)), _event("test:later", {"n": 1}))
    found = lookup.first(action="test:later")
    assert found is not None
    assert found[1] in ('{"n": 1}', {"n": 1})


def test_writers_queue_for_the_lock_instead_of_failing(database: Database) -> None:
    """A session write started while a direct transaction holds the writer role waits for it,
    then commits; neither sees 'database is locked'."""
    holding = threading.Event()
    release = threading.Event()
    order: list[str] = []

    def direct() -> None:
        with database.direct_write() as transaction:
            transaction.execute(INSERT_EVENT, **_event("test:first"))
            holding.set()
            release.wait(5)
            order.append("direct transaction ending")

    def session_write() -> None:
        holding.wait(5)
        with database.unit_of_work(write=True) as session:
            session.connection().execute(insert(table_of(Event)), _event("test:second"))
            order.append("session wrote")

    threads = [threading.Thread(target=direct), threading.Thread(target=session_write)]
    for thread in threads:
        thread.start()
    holding.wait(5)
    release.set()
    for thread in threads:
        thread.join(10)
    assert order == ["direct transaction ending", "session wrote"]
    assert database.prepared(_BY_ACTION).first(action="test:second") is not None


def test_driver_values_are_evened_out() -> None:
    moment = datetime(2026, 11, 28, 12, 0, 1)
    assert as_utc("2026-11-28 12:00:01.000000") == moment.replace(tzinfo=UTC)
    assert as_utc(moment) == moment.replace(tzinfo=UTC)
    assert as_utc(None) is None
    assert as_list('["read", "identity"]') == ["read", "identity"]
    assert as_list(["read"]) == ["read"]
    assert as_list(None) is None


HOLDER = """
import sys
from ostiary.db import WriterLock
lock = WriterLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
sys.stdin.readline()
lock.release()
"""


def test_the_writer_lock_holds_writers_of_another_process(tmp_path: Path) -> None:
    """The lock is a POSIX record lock, so a worker process waits for another's transaction;
    the in-process mutex alone would not stop it."""
    import subprocess
    import sys

    path = str(tmp_path / "ostiary.db")
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdout is not None
        assert holder.stdin is not None
        assert holder.stdout.readline().strip() == "held"
        lock = WriterLock(path)
        acquired = threading.Event()

        def wait_for_lock() -> None:
            lock.acquire()
            acquired.set()
            lock.release()

        waiter = threading.Thread(target=wait_for_lock)
        waiter.start()
        assert not acquired.wait(0.5)  # still held by the other process
        holder.stdin.write("release\n")
        holder.stdin.flush()
        assert acquired.wait(10)  # handed over once released
        waiter.join(10)
        holder.stdin.close()
        holder.wait(10)
