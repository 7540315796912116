"""Deleting what has expired, so requests that need no credentials cannot grow the database
without bound (the periodic job "purge expired").

- Device authorizations and heroku CLI logins (``device_authorizations``): anyone may start one.
- Authorization codes (``authorization_grants``): one-time, five minutes.
- Login sessions past their expiry whose authorizations are all dead (revoked or expired). A
  session's authorizations are deleted with it (the foreign key cascades), so one that still
  works, which an older password login may have, keeps its session until it dies too.

Rows are deleted an hour after they expire, not at once: a poll or a replayed code in that hour
still gets its precise answer (``expired_token``; a replayed code still revokes its tokens).
Each batch is chosen in a read transaction and deleted by primary key, conditions re-checked, in
a short write transaction of its own, so the writer lock is never held for a scan and several
workers purging at once delete each row once and otherwise nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select

from ostiary.accounts.models import LoginSession
from ostiary.clock import utcnow
from ostiary.db import Base, Database, table_of
from ostiary.tokens.models import Authorization, AuthorizationGrant, DeviceAuthorization

logger = logging.getLogger("ostiary.purge")

GRACE = timedelta(hours=1)
BATCH_SIZE = 500
# At most this many batches per kind and run: a backlog is worked off over several runs rather
# than in one long burst of writes.
MAX_BATCHES = 20


@dataclass(frozen=True, slots=True)
class Expiring:
    """A kind of row that expires: its model and when a row of it may go."""

    name: str
    model: type[Base]
    purgeable: Callable[[datetime, datetime], ColumnElement[bool]]


def _device_expired(cutoff: datetime, now: datetime) -> ColumnElement[bool]:
    return DeviceAuthorization.expires_at < cutoff


def _grant_expired(cutoff: datetime, now: datetime) -> ColumnElement[bool]:
    return AuthorizationGrant.expires_at < cutoff


def _session_expired(cutoff: datetime, now: datetime) -> ColumnElement[bool]:
    live_authorization = exists().where(
        Authorization.session_id == LoginSession.id,
        Authorization.revoked_at.is_(None),
        or_(Authorization.expires_at.is_(None), Authorization.expires_at > now),
    )
    return and_(
        LoginSession.expires_at.is_not(None),
        LoginSession.expires_at < cutoff,
        ~live_authorization,
    )


EXPIRING = (
    Expiring("device and CLI logins", DeviceAuthorization, _device_expired),
    Expiring("authorization codes", AuthorizationGrant, _grant_expired),
    Expiring("login sessions", LoginSession, _session_expired),
)


def _purge_batch(database: Database, kind: Expiring, now: datetime) -> int:
    condition = kind.purgeable(now - GRACE, now)
    id_column = table_of(kind.model).c.id
    with database.unit_of_work(write=False) as session:
        ids = list(session.scalars(select(id_column).where(condition).limit(BATCH_SIZE)))
    if not ids:
        return 0
    with database.unit_of_work(write=True) as session:
        result = session.execute(
            delete(kind.model).where(id_column.in_(ids), condition),
            execution_options={"synchronize_session": False},
        )
    deleted: int = result.rowcount  # type: ignore[attr-defined]
    return deleted


def purge_expired(database: Database, now: datetime | None = None) -> dict[str, int]:
    """Delete every kind's rows that expired more than :data:`GRACE` ago, in batches; how many
    of each went."""
    now = now or utcnow()
    counts: dict[str, int] = {}
    for kind in EXPIRING:
        total = 0
        for _ in range(MAX_BATCHES):
            deleted = _purge_batch(database, kind, now)
            total += deleted
            if deleted < BATCH_SIZE:
                break
        counts[kind.name] = total
        if total:
            logger.info("purged %d expired %s", total, kind.name)
    return counts
