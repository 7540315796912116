"""The purge of expired rows (ostiary.purge) on a real, migrated SQLite database."""

from __future__ import annotations

import secrets
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from ostiary.accounts.models import Account
from ostiary.clock import utcnow
from ostiary.db import Database
from ostiary.events import SYSTEM
from ostiary.purge import BATCH_SIZE, REVOKED_RETENTION, purge_expired
from ostiary.security.hashing import SecretHasher
from ostiary.tokens.models import (
    AccessToken,
    Authorization,
    AuthorizationKind,
    DeviceAuthorization,
    RefreshToken,
)
from ostiary.tokens.services import (
    issue_access_token,
    issue_refresh_token,
    revoke_with_descendants,
)
from ostiary.unit import Unit
from tests.support.expiring import LONG_AGO, count, device, present, seed


@pytest.fixture
def account_id(database: Database) -> str:
    with database.unit_of_work(write=True) as session:
        account = Account(email="purge@example.com")
        session.add(account)
        session.flush()
        return account.id


def test_expired_rows_go_and_the_others_stay(database: Database, account_id: str) -> None:
    seeded = seed(database, account_id)
    counts = purge_expired(database)
    assert counts == {
        "device and CLI logins": 2,
        "authorization codes": 1,
        "reset and verification links": 0,
        "revoked authorizations": 3,
        "expired access tokens": 0,
        "login sessions": 5,
        "passkey challenges": 1,
    }
    for model, ids in seeded.doomed.items():
        assert present(database, model, ids) == set(), model
    for model, ids in seeded.kept.items():
        assert present(database, model, ids) == set(ids), model
    assert set(purge_expired(database).values()) == {0}  # nothing left to do


def test_a_backlog_goes_in_batches(database: Database) -> None:
    backlog = 2 * BATCH_SIZE + 7
    with database.unit_of_work(write=True) as session:
        session.add_all(device(utcnow() - LONG_AGO) for _ in range(backlog))
    assert purge_expired(database)["device and CLI logins"] == backlog
    assert count(database, DeviceAuthorization) == 0


def test_workers_purging_at_once_delete_each_row_once(database: Database, tmp_path: Path) -> None:
    backlog = 3 * BATCH_SIZE
    with database.unit_of_work(write=True) as session:
        session.add_all(device(utcnow() - LONG_AGO) for _ in range(backlog))
    # Separate Database objects, as separate worker processes have.
    others = [Database(database.url) for _ in range(3)]
    try:
        with ThreadPoolExecutor(len(others)) as pool:
            results = list(pool.map(purge_expired, others))
    finally:
        for other in others:
            other.dispose()
    assert sum(result["device and CLI logins"] for result in results) == backlog
    assert count(database, DeviceAuthorization) == 0


def test_a_revoked_lineage_is_kept_for_the_retention_then_goes_with_its_tokens(
    database: Database, account_id: str
) -> None:
    """Revoking keeps the rows (so that what was revoked can be named); the purge deletes them,
    tokens and descendants included, once the retention has passed: on a clock given here."""
    hasher = SecretHasher(b"k" * 32)
    revoked_at = utcnow() - timedelta(days=1)
    made: dict[str, list[str]] = {"revoked": [], "live": []}
    tokens: list[AccessToken] = []
    with database.unit_of_work(write=True) as session:
        parent_id = None
        for _ in range(3):  # a grandparent, its child, and the grandchild
            authorization = Authorization(
                account_id=account_id,
                kind=AuthorizationKind.OAUTH,
                scopes=["global"],
                parent_id=parent_id,
            )
            session.add(authorization)
            session.flush()
            made["revoked"].append(authorization.id)
            unit = Unit(session=session, hasher=hasher, context=SYSTEM)
            tokens.append(issue_access_token(unit, authorization).row)
            issue_refresh_token(unit, authorization)
            parent_id = authorization.id
        live = Authorization(
            account_id=account_id, kind=AuthorizationKind.PERSONAL, scopes=["read"]
        )
        session.add(live)
        session.flush()
        made["live"].append(live.id)
        made["tokens"] = [token.id for token in tokens]
        revoke_with_descendants(session, Authorization.id == made["revoked"][0], now=revoked_at)

    within = purge_expired(database, now=revoked_at + REVOKED_RETENTION - timedelta(minutes=1))
    assert within["revoked authorizations"] == 0
    assert present(database, Authorization, made["revoked"]) == set(made["revoked"])
    assert present(database, AccessToken, made["tokens"]) == set(made["tokens"])

    after = purge_expired(database, now=revoked_at + REVOKED_RETENTION + timedelta(minutes=1))
    assert after["revoked authorizations"] >= 1  # the descendants may go by the cascade
    assert present(database, Authorization, made["revoked"]) == set()
    assert present(database, AccessToken, made["tokens"]) == set()
    assert count(database, RefreshToken) == 0
    assert present(database, Authorization, made["live"]) == set(made["live"])


def test_long_expired_tokens_go_but_each_authorizations_newest_stays(
    database: Database, account_id: str
) -> None:
    now = utcnow()
    long_ago = now - REVOKED_RETENTION - timedelta(hours=6)
    with database.unit_of_work(write=True) as session:
        machine = Authorization(
            account_id=account_id, kind=AuthorizationKind.PERSONAL, scopes=["read"]
        )
        lone = Authorization(
            account_id=account_id, kind=AuthorizationKind.PERSONAL, scopes=["read"]
        )
        session.add_all([machine, lone])
        session.flush()

        def token(owner: Authorization, created: timedelta, expires_at: datetime) -> str:
            row = AccessToken(
                authorization_id=owner.id,
                token_hash=secrets.token_hex(32),
                display_head="ostk_abcd",
                display_tail="wxyz",
                created_at=long_ago - created,
                expires_at=expires_at,
            )
            session.add(row)
            session.flush()
            return row.id

        superseded = [token(machine, timedelta(hours=h), long_ago) for h in (3, 2)]
        newest = token(machine, timedelta(hours=1), long_ago)
        recent = token(machine, timedelta(hours=4), now - timedelta(days=3))  # within retention
        only = token(lone, timedelta(hours=1), long_ago)  # expired long ago, but its newest
    assert purge_expired(database)["expired access tokens"] == 2
    assert present(database, AccessToken, superseded) == set()
    assert present(database, AccessToken, [newest, recent, only]) == {newest, recent, only}
