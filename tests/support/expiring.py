"""Rows that expire, made directly in a database: the purge's raw material."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ostiary.accounts.models import LoginSession
from ostiary.clock import utcnow
from ostiary.db import Base, Database, table_of
from ostiary.tokens.models import (
    Authorization,
    AuthorizationGrant,
    AuthorizationKind,
    DeviceAuthorization,
)

LONG_AGO = timedelta(hours=2)  # past the purge's hour of grace
JUST_NOW = timedelta(minutes=1)  # expired, but within the grace


@dataclass
class Seeded:
    """The ids of rows that must go, and of rows that must stay, by model."""

    doomed: dict[type[Base], list[str]] = field(default_factory=dict)
    kept: dict[type[Base], list[str]] = field(default_factory=dict)

    def add(self, keep: bool, model: type[Base], row_id: str) -> None:
        """Remember a row."""
        (self.kept if keep else self.doomed).setdefault(model, []).append(row_id)


def device(expires_at: datetime, kind: str = "device") -> DeviceAuthorization:
    """A pending device authorization or heroku CLI login."""
    return DeviceAuthorization(
        kind=kind,
        device_code_hash=secrets.token_hex(32),
        user_code_hash=secrets.token_hex(32),
        scopes=["read"],
        expires_at=expires_at,
        created_at=expires_at - timedelta(minutes=10),
    )


def seed(database: Database, account_id: str, now: datetime | None = None) -> Seeded:
    """One row of each case: long expired (doomed), just expired and live (kept); sessions with
    dead and with live authorizations."""
    now = now or utcnow()
    seeded = Seeded()
    with database.unit_of_work(write=True) as session:
        for kind in ("device", "heroku_cli"):
            for keep, expires_at in (
                (False, now - LONG_AGO),
                (True, now - JUST_NOW),
                (True, now + timedelta(minutes=5)),
            ):
                row = device(expires_at, kind)
                session.add(row)
                session.flush()
                seeded.add(keep, DeviceAuthorization, row.id)

        holder = Authorization(account_id=account_id, kind=AuthorizationKind.OAUTH, scopes=["read"])
        session.add(holder)
        session.flush()
        for keep, expires_at in (
            (False, now - LONG_AGO),
            (True, now - JUST_NOW),
            (True, now + JUST_NOW),
        ):
            grant = AuthorizationGrant(
                authorization_id=holder.id, code_hash=secrets.token_hex(32), expires_at=expires_at
            )
            session.add(grant)
            session.flush()
            seeded.add(keep, AuthorizationGrant, grant.id)

        # (kept?, the session's expiry, its authorization's expiry, revoked?, has one?)
        cases: list[tuple[bool, datetime | None, datetime | None, bool, bool]] = [
            (False, now - LONG_AGO, None, False, False),  # expired, nothing through it
            (False, now - LONG_AGO, now - LONG_AGO, False, True),  # its authorization expired
            (False, now - LONG_AGO, now + LONG_AGO, True, True),  # its authorization revoked
            (True, now - LONG_AGO, now + LONG_AGO, False, True),  # a live authorization: kept
            (True, now - LONG_AGO, None, False, True),  # a never-expiring authorization: kept
            (True, now - JUST_NOW, None, False, False),  # within the grace
            (True, None, None, False, False),  # never expires
            (True, now + LONG_AGO, None, False, False),  # live
        ]
        for keep, session_expiry, authorization_expiry, revoked, with_authorization in cases:
            login = LoginSession(account_id=account_id, expires_at=session_expiry)
            session.add(login)
            session.flush()
            seeded.add(keep, LoginSession, login.id)
            if with_authorization:
                authorization = Authorization(
                    account_id=account_id,
                    kind=AuthorizationKind.PERSONAL,
                    scopes=["global"],
                    session_id=login.id,
                    expires_at=authorization_expiry,
                    revoked_at=now if revoked else None,
                )
                session.add(authorization)
                session.flush()
                seeded.add(keep, Authorization, authorization.id)
    return seeded


def present(database: Database, model: type[Base], ids: list[str]) -> set[str]:
    """Which of ``ids`` still exist."""
    id_column = table_of(model).c.id
    with database.unit_of_work(write=False) as session:
        return set(session.scalars(select(id_column).where(id_column.in_(ids))))


def count(database: Database, model: type[Base]) -> int:
    """How many rows of ``model`` exist."""
    with database.unit_of_work(write=False) as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)
