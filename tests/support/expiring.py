"""Rows that expire, made directly in a database: the purge's raw material."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select

from ostiary.accounts.models import LoginSession
from ostiary.clock import utcnow
from ostiary.db import Base, Database, table_of
from ostiary.passkeys.models import PasskeyChallenge
from ostiary.purge import REVOKED_RETENTION
from ostiary.tokens.models import (
    Authorization,
    AuthorizationGrant,
    AuthorizationKind,
    DeviceAuthorization,
)

LONG_AGO = timedelta(hours=2)  # past the purge's hour of grace
JUST_NOW = timedelta(minutes=1)  # expired, but within the grace
RETAINED_LONG_AGO = REVOKED_RETENTION + LONG_AGO  # revoked or ended before the retention


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
    """One row of each case: long expired or revoked (doomed), just expired, recently revoked and
    live (kept); sessions expired or ended, with dead, retained and live authorizations."""
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

        # A revoked authorization is kept for the retention, then goes with its tokens.
        for keep, revoked_when in ((False, now - RETAINED_LONG_AGO), (True, now - LONG_AGO)):
            revoked = Authorization(
                account_id=account_id,
                kind=AuthorizationKind.PERSONAL,
                scopes=["global"],
                revoked_at=revoked_when,
            )
            session.add(revoked)
            session.flush()
            seeded.add(keep, Authorization, revoked.id)

        # (kept?, the session's expiry, when it ended, its authorization's expiry, when that was
        # revoked, has one?)
        cases: list[
            tuple[bool, datetime | None, datetime | None, datetime | None, datetime | None, bool]
        ] = [
            (False, now - LONG_AGO, None, None, None, False),  # expired, nothing through it
            (False, now - LONG_AGO, None, now - LONG_AGO, None, True),  # its authorization expired
            # Its authorization revoked before the retention.
            (False, now - LONG_AGO, None, now + LONG_AGO, now - RETAINED_LONG_AGO, True),
            # Its authorization revoked recently: both kept for the retention.
            (True, now - LONG_AGO, None, now + LONG_AGO, now - LONG_AGO, True),
            (True, now - LONG_AGO, None, now + LONG_AGO, None, True),  # a live authorization
            (True, now - LONG_AGO, None, None, None, True),  # a never-expiring authorization
            (True, now - JUST_NOW, None, None, None, False),  # within the grace
            (True, None, None, None, None, False),  # never expires
            (True, now + LONG_AGO, None, None, None, False),  # live
            # Ended (and its authorization revoked) before the retention.
            (False, None, now - RETAINED_LONG_AGO, None, now - RETAINED_LONG_AGO, True),
            (False, now + LONG_AGO, now - RETAINED_LONG_AGO, None, None, False),
            # Ended recently: kept for the retention, with what it revoked.
            (True, None, now - LONG_AGO, None, now - LONG_AGO, True),
            (True, now - LONG_AGO, now - LONG_AGO, None, None, False),
        ]
        for keep, session_expiry, ended_at, authorization_expiry, revoked_at, through in cases:
            login = LoginSession(
                account_id=account_id, expires_at=session_expiry, ended_at=ended_at
            )
            session.add(login)
            session.flush()
            seeded.add(keep, LoginSession, login.id)
            if through:
                authorization = Authorization(
                    account_id=account_id,
                    kind=AuthorizationKind.PERSONAL,
                    scopes=["global"],
                    session_id=login.id,
                    expires_at=authorization_expiry,
                    revoked_at=revoked_at,
                )
                session.add(authorization)
                session.flush()
                seeded.add(keep, Authorization, authorization.id)

        # Passkey challenges: anyone may ask for one (a passwordless sign-in).
        for keep, expires_at in (
            (False, now - LONG_AGO),
            (True, now - JUST_NOW),
            (True, now + JUST_NOW),
        ):
            challenge = PasskeyChallenge(
                challenge_digest=secrets.token_hex(32),
                purpose="sign-in",
                browser_digest=secrets.token_hex(32),
                expires_at=expires_at,
            )
            session.add(challenge)
            session.flush()
            seeded.add(keep, PasskeyChallenge, challenge.id)
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
