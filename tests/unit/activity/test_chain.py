"""The hash chain: sealing after commit, ``audit verify`` catching each kind of tampering done
directly in the database, and retention keeping the chain verifiable from its anchor."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import text

from ostiary.activity.chain import chain_key
from ostiary.activity.services import prune_events, seal_events
from ostiary.activity.verify import verify_chain
from ostiary.clock import utcnow
from ostiary.db import Database
from tests.unit.activity.conftest import KEY


def _verify(database: Database, key: bytes = KEY):  # type: ignore[no-untyped-def]
    with database.unit_of_work(write=False) as session:
        return verify_chain(session, key)


def _sql(database: Database, statement: str, **params: object) -> None:
    with database.write_engine.begin() as connection:
        connection.execute(text(statement), params)


def _seq_of(database: Database, seq: int) -> str:
    with database.write_engine.begin() as connection:
        return str(
            connection.execute(text("SELECT id FROM events WHERE seq = :s"), {"s": seq}).scalar()
        )


@pytest.fixture
def sealed(database: Database, record: Callable[..., None]) -> Database:
    record(8)
    assert seal_events(database, KEY) == 8
    return database


def test_events_are_inserted_unsealed_and_sealed_in_order(
    database: Database, record: Callable[..., None]
) -> None:
    record(3)
    report = _verify(database)
    assert report.intact
    assert (report.unsealed, report.checked) == (3, 0)
    assert seal_events(database, KEY) == 3
    record(2)
    assert seal_events(database, KEY, batch_size=1) == 2  # one transaction per batch
    report = _verify(database)
    assert report.intact
    assert (report.unsealed, report.checked, report.head_seq) == (0, 5, 5)
    with database.write_engine.begin() as connection:
        rows = connection.execute(text("SELECT seq FROM events ORDER BY created_at, id")).all()
    assert [r.seq for r in rows] == [1, 2, 3, 4, 5]


def test_subscribers_get_each_sealed_batch_in_the_sealing_transaction(
    database: Database, record: Callable[..., None]
) -> None:
    record(3)
    told: list[list[int]] = []
    seal_events(
        database, KEY, [lambda session, events: told.append([e.seq for e in events])], batch_size=2
    )
    assert told == [[1, 2], [3]]


def test_a_subscriber_that_fails_leaves_its_batch_unsealed(
    database: Database, record: Callable[..., None]
) -> None:
    record(2)

    def broken(session: object, events: object) -> None:
        raise RuntimeError("outbox full")

    with pytest.raises(RuntimeError):
        seal_events(database, KEY, [broken])
    assert _verify(database).unsealed == 2
    assert seal_events(database, KEY) == 2


def test_an_intact_chain_verifies(sealed: Database) -> None:
    report = _verify(sealed)
    assert report.intact
    assert report.checked == 8


def test_an_edited_event_is_reported_as_modified(sealed: Database) -> None:
    victim = _seq_of(sealed, 4)
    _sql(sealed, "UPDATE events SET ip = '198.51.100.7' WHERE seq = 4")
    report = _verify(sealed)
    assert (report.problem, report.seq, report.event_id) == ("modified", 4, victim)
    assert report.checked == 3


def test_edited_details_are_reported(sealed: Database) -> None:
    _sql(sealed, "UPDATE events SET details = '{\"n\": 2}' WHERE seq = 6")
    assert (_verify(sealed).problem, _verify(sealed).seq) == ("modified", 6)


def test_a_deleted_event_is_reported_as_removed(sealed: Database) -> None:
    _sql(sealed, "DELETE FROM events WHERE seq = 5")
    report = _verify(sealed)
    assert (report.problem, report.seq) == ("removed", 5)


def test_deleting_the_newest_events_is_reported(sealed: Database) -> None:
    _sql(sealed, "DELETE FROM events WHERE seq >= 7")
    report = _verify(sealed)
    assert (report.problem, report.seq) == ("removed", 7)


def test_two_swapped_events_are_reported_as_reordered(sealed: Database) -> None:
    fourth = _seq_of(sealed, 4)
    _sql(sealed, "UPDATE events SET seq = -1 WHERE seq = 3")
    _sql(sealed, "UPDATE events SET seq = 3 WHERE seq = 4")
    _sql(sealed, "UPDATE events SET seq = 4 WHERE seq = -1")
    report = _verify(sealed)
    assert (report.problem, report.seq, report.event_id) == ("reordered", 3, fourth)
    assert "sealed at seq 4" in report.explanation


def test_an_event_inserted_into_the_middle_is_reported(sealed: Database) -> None:
    # Make room at seq 5 the only way the unique index allows, then forge an event there.
    _sql(sealed, "UPDATE events SET seq = -seq - 1 WHERE seq >= 5")
    _sql(sealed, "UPDATE events SET seq = -seq WHERE seq < 0")
    _sql(
        sealed,
        "INSERT INTO events (id, created_at, actor_id, action, details, outcome, seq, chain_hash)"
        " VALUES ('forged', '2026-12-01 10:00:00', 'acct-1', 'account:delete', '{}', 'success',"
        " 5, :h)",
        h="ab" * 32,
    )
    report = _verify(sealed)
    assert (report.problem, report.seq, report.event_id) == ("inserted", 5, "forged")


def test_an_event_appended_after_the_head_is_reported(sealed: Database) -> None:
    _sql(
        sealed,
        "INSERT INTO events (id, created_at, actor_id, action, details, outcome, seq, chain_hash)"
        " VALUES ('forged', '2026-12-01 10:00:00', 'acct-1', 'account:delete', '{}', 'success',"
        " 9, :h)",
        h="ab" * 32,
    )
    assert (_verify(sealed).problem, _verify(sealed).event_id) == ("inserted", "forged")


def test_a_rewritten_hash_does_not_verify_without_the_server_secret(sealed: Database) -> None:
    # A database-only attacker recomputes a hash with a key of their own: it does not verify.
    assert not _verify(sealed, chain_key(b"x" * 48)).intact


def test_retention_prunes_old_sealed_events_and_the_chain_still_verifies(
    sealed: Database, record: Callable[..., None]
) -> None:
    old = (utcnow() - timedelta(days=401)).strftime("%Y-%m-%d %H:%M:%S.000000")
    _sql(sealed, "UPDATE events SET created_at = :old WHERE seq <= 5", old=old)
    # Re-seal what the test just "aged": its hashes cover created_at, so seal a fresh chain.
    _sql(sealed, "UPDATE events SET seq = NULL, chain_hash = NULL")
    _sql(sealed, "UPDATE event_chain SET head_seq = 0, head_hash = :g", g="0" * 64)
    assert seal_events(sealed, KEY) == 8
    record(1)  # unsealed, young: neither pruned nor checked
    assert prune_events(sealed, 400, batch_size=2) == 5
    report = _verify(sealed)
    assert report.intact, report
    assert (report.anchor_seq, report.checked, report.unsealed) == (5, 3, 1)
    assert prune_events(sealed, 400) == 0
    _sql(sealed, "UPDATE events SET action = 'x' WHERE seq = 6")
    assert (_verify(sealed).problem, _verify(sealed).seq) == ("modified", 6)
