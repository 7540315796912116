"""The hash chain: sealing after commit, ``audit verify`` catching each kind of tampering done
directly in the database, and retention keeping the chain verifiable from its anchor."""

from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import text

from ostiary.activity.chain import canonical_fields, chain_key, link_bytes, timestamp
from ostiary.activity.services import prune_events, seal_events
from ostiary.activity.verify import ChainReport, verify_chain
from ostiary.clock import utcnow
from ostiary.db import Database
from tests.unit.activity.conftest import KEY


def _verify(database: Database, key: bytes = KEY, **options: Any) -> ChainReport:
    with database.unit_of_work(write=False) as session:
        return verify_chain(session, key, **options)


def _sql(database: Database, statement: str, **params: object) -> None:
    with database.write_engine.begin() as connection:
        connection.execute(text(statement), params)


def _age(database: Database, moment: datetime, where: str = "seq IS NULL") -> None:
    """Set the events' ``created_at`` (as SQLite stores it) where ``where`` holds."""
    stored = moment.strftime("%Y-%m-%d %H:%M:%S.%f")
    # ``where`` is one of the tests' own literals, never input.
    _sql(database, f"UPDATE events SET created_at = :at WHERE {where}", at=stored)  # noqa: S608


def _hash_of(database: Database, seq: int) -> str:
    with database.write_engine.begin() as connection:
        return str(
            connection.execute(
                text("SELECT chain_hash FROM events WHERE seq = :s"), {"s": seq}
            ).scalar()
        )


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


def test_a_run_seals_all_that_waits_however_many_batches_it_takes(
    database: Database, record: Callable[..., None]
) -> None:
    # A busy server records more between two runs than any fixed number of batches holds:
    # a run that stopped at one (40 once) fell further behind every run.
    record(60)
    assert seal_events(database, KEY, batch_size=1) == 60
    report = _verify(database)
    assert (report.intact, report.unsealed, report.head_seq) == (True, 0, 60)


def test_a_run_stops_when_the_server_stops(database: Database, record: Callable[..., None]) -> None:
    record(3)
    stopping = threading.Event()
    stopping.set()
    assert seal_events(database, KEY, batch_size=1, stop=stopping) == 0
    assert seal_events(database, KEY) == 3


def test_a_run_stops_after_its_time_and_the_next_goes_on(
    database: Database, record: Callable[..., None]
) -> None:
    record(5)
    assert seal_events(database, KEY, batch_size=1, run_seconds=0) == 0
    assert _verify(database).unsealed == 5
    assert seal_events(database, KEY, batch_size=1) == 5
    assert _verify(database).intact


def test_a_prune_run_deletes_all_that_is_due_however_many_batches_it_takes(
    database: Database, record: Callable[..., None]
) -> None:
    old = utcnow() - timedelta(days=30)
    record(60)
    _age(database, old)
    assert seal_events(database, KEY, now=old) == 60  # sealed within the grace of "then"
    assert prune_events(database, 7, key=KEY, batch_size=1) == 60
    assert _verify(database).intact


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
    database: Database, record: Callable[..., None]
) -> None:
    record(5)
    # Aged before sealing (the hashes cover created_at), within the sealer's grace of "now".
    old = utcnow() - timedelta(days=401)
    _age(database, old)
    assert seal_events(database, KEY, now=old) == 5
    record(3)
    assert seal_events(database, KEY) == 3
    record(1)  # unsealed, young: neither pruned nor checked
    assert prune_events(database, 400, key=KEY, batch_size=2) == 5
    report = _verify(database, retention_days=400)
    assert report.intact, report
    assert (report.anchor_seq, report.checked, report.unsealed) == (5, 3, 1)
    assert prune_events(database, 400, key=KEY) == 0
    _sql(database, "UPDATE events SET action = 'x' WHERE seq = 6")
    assert (_verify(database).problem, _verify(database).seq) == ("modified", 6)


# The attacks of the review (issue 14): someone who can write the database, not read the secret.


def test_rebuilding_the_chain_from_an_event_is_refused_and_reported(
    sealed: Database, record: Callable[..., None], caplog: pytest.LogCaptureFixture
) -> None:
    # Unseal everything from seq 5, delete the target, move the head back to seq 4.
    fourth = _hash_of(sealed, 4)
    _sql(sealed, "UPDATE events SET seq = NULL, chain_hash = NULL WHERE seq >= 5")
    _sql(sealed, "DELETE FROM events WHERE id = (SELECT min(id) FROM events WHERE seq IS NULL)")
    _sql(sealed, "UPDATE event_chain SET head_seq = 4, head_hash = :h", h=fourth)
    record(1)
    with caplog.at_level("ERROR", logger="ostiary.activity"):
        assert seal_events(sealed, KEY) == 0  # the sealer seals nothing onto a forged head
    assert "does not verify" in caplog.text
    report = _verify(sealed)
    assert report.problem == "forged"
    assert report.unsealed == 4


def test_unsealing_old_events_without_moving_the_head_is_not_resealed(
    sealed: Database,
) -> None:
    # The sealer would chain them again after the head: the grace leaves them unsealed.
    _age(sealed, utcnow() - timedelta(hours=1), "seq >= 5")
    _sql(sealed, "UPDATE events SET seq = NULL, chain_hash = NULL WHERE seq >= 5")
    assert seal_events(sealed, KEY) == 0
    assert _verify(sealed).problem == "removed"  # from seq 5 to the head


def test_moving_the_head_back_after_deleting_the_newest_is_reported(sealed: Database) -> None:
    sixth = _hash_of(sealed, 6)
    _sql(sealed, "DELETE FROM events WHERE seq >= 7")
    _sql(sealed, "UPDATE event_chain SET head_seq = 6, head_hash = :h", h=sixth)
    assert _verify(sealed).problem == "forged"


def test_deleting_a_prefix_and_moving_the_anchor_is_reported(sealed: Database) -> None:
    third = _hash_of(sealed, 3)
    _sql(sealed, "DELETE FROM events WHERE seq <= 3")
    _sql(sealed, "UPDATE event_chain SET anchor_seq = 3, anchor_hash = :h", h=third)
    assert _verify(sealed).problem == "forged"
    assert prune_events(sealed, 1, key=KEY, now=utcnow() + timedelta(days=2)) == 0


def test_a_chain_record_stripped_of_its_mac_is_reported(sealed: Database) -> None:
    _sql(sealed, "UPDATE event_chain SET mac = NULL")
    assert _verify(sealed).problem == "forged"


def test_an_event_inserted_unsealed_in_the_past_is_not_sealed_and_is_reported(
    sealed: Database,
) -> None:
    _sql(
        sealed,
        "INSERT INTO events (id, created_at, actor_id, action, details, outcome)"
        " VALUES ('forged', :at, 'acct-1', 'account:delete', '{}', 'success')",
        at=(utcnow() - timedelta(minutes=11)).strftime("%Y-%m-%d %H:%M:%S.%f"),
    )
    assert seal_events(sealed, KEY) == 0
    report = _verify(sealed)
    assert (report.problem, report.event_id) == ("inserted", "forged")
    assert "outside the server" in report.explanation


def test_an_event_aged_to_be_pruned_is_kept_and_reported(sealed: Database) -> None:
    _age(sealed, utcnow() - timedelta(days=401), "seq <= 3")
    assert prune_events(sealed, 400, key=KEY) == 0  # its link no longer verifies
    assert (_verify(sealed).problem, _verify(sealed).seq) == ("modified", 1)


def test_an_anchor_younger_than_the_retention_is_reported(
    database: Database, record: Callable[..., None]
) -> None:
    record(3)
    old = utcnow() - timedelta(days=30)
    _age(database, old)
    assert seal_events(database, KEY, now=old) == 3
    # A server with a retention of 7 days pruned what one of 400 keeps.
    assert prune_events(database, 7, key=KEY) == 3
    assert _verify(database, retention_days=7).intact
    report = _verify(database, retention_days=400)
    assert (report.problem, report.seq) == ("removed", 3)


def test_the_first_run_seals_the_events_older_than_the_chain(
    database: Database, record: Callable[..., None]
) -> None:
    # Recorded before migration 0015: old, and sealed by the first run whatever their age.
    record(2)
    _age(database, utcnow() - timedelta(days=3))
    assert _verify(database).intact
    assert seal_events(database, KEY) == 2
    assert _verify(database).intact


def test_audit_adopt_signs_a_chain_sealed_before_the_mac_only_if_it_verifies(
    sealed: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from click.testing import CliRunner

    from ostiary.cli.audit import audit

    monkeypatch.setenv("OSTIARY_DATABASE_URL", sealed.engine.url.render_as_string(False))
    monkeypatch.setenv("OSTIARY_SECRET_KEY", "k" * 48)  # KEY's secret
    _sql(sealed, "UPDATE event_chain SET mac = NULL")  # as sealed before migration 0019
    _sql(sealed, "UPDATE events SET ip = '198.51.100.7' WHERE seq = 2")
    refused = CliRunner().invoke(audit, ["adopt"])
    assert refused.exit_code == 1
    assert "Not adopted" in refused.output
    assert _verify(sealed).problem == "forged"  # rolled back: still unsigned
    _sql(sealed, "UPDATE events SET ip = '203.0.113.5' WHERE seq = 2")
    adopted = CliRunner().invoke(audit, ["adopt"])
    assert adopted.exit_code == 0, adopted.output
    assert _verify(sealed).intact


def test_concurrent_sealers_on_sqlite_give_every_event_one_place(
    database: Database, record: Callable[..., None]
) -> None:
    # Each plans outside the writer lock; one that finds the head moved leaves the rest to the
    # sealer that moved it.
    from concurrent.futures import ThreadPoolExecutor

    record(40)
    with ThreadPoolExecutor(4) as pool:
        counts = list(pool.map(lambda _: seal_events(database, KEY, batch_size=3), range(4)))
    assert sum(counts) == 40
    report = _verify(database)
    assert report.intact, report
    assert (report.checked, report.head_seq, report.unsealed) == (40, 40, 0)


def test_the_canonical_form_is_the_one_existing_chains_were_sealed_with() -> None:
    """The bytes and the link below were computed by the sealer before its encoder and its
    timestamps were made faster: a chain sealed then must still verify."""
    fields = {
        "id": "0193a1b2-0000-7000-8000-000000000001",
        "seq": 7,
        "action": "oauth:token:create",
        "created_at": datetime(2026, 12, 2, 14, 0, 0, 5),
        "actor_id": None,
        "subject_id": "acc",
        "authorization_id": "auth",
        "token": None,
        "client_id": "c",
        "app_id": None,
        "target_type": "authorization",
        "target_id": "auth",
        "ip": "127.0.0.1",
        "user_agent": "curl/8 \u00e9",
        "request_id": "r",
        "outcome": "success",
        "details": {"scopes": ["read", "identity"], "b": 1},
    }
    canonical = canonical_fields(fields)
    assert canonical == (
        b'{"action":"oauth:token:create","actor_id":null,"app_id":null,"authorization_id":"auth",'
        b'"client_id":"c","created_at":"2026-12-02T14:00:00.000005Z","details":{"b":1,'
        b'"scopes":["read","identity"]},"id":"0193a1b2-0000-7000-8000-000000000001",'
        b'"ip":"127.0.0.1","outcome":"success","request_id":"r","seq":7,"subject_id":"acc",'
        b'"target_id":"auth","target_type":"authorization","token":null,'
        b'"user_agent":"curl/8 \xc3\xa9"}'
    )
    assert link_bytes(b"k" * 32, "0" * 64, canonical) == (
        "521d21987c8a14a876993080bfa25e350202b860cc30cdb14efef771f1cff7c6"
    )


@pytest.mark.parametrize(
    "moment",
    [
        datetime(2026, 12, 2, 14, 0, 0, 5),
        datetime(2026, 12, 2, 15, 0, 0, 999999, tzinfo=timezone(timedelta(hours=1))),
        datetime(2026, 1, 1, tzinfo=UTC),
        datetime(999, 1, 1),
    ],
)
def test_timestamps_are_written_as_strftime_writes_them(moment: datetime) -> None:
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    assert timestamp(moment) == utc.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
