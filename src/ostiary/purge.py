"""Deleting what has expired or was revoked long enough ago, so that requests that need no
credentials cannot grow the database without bound (the periodic job "purge expired").

- Device authorizations and heroku CLI logins (``device_authorizations``): anyone may start one.
- Authorization codes (``authorization_grants``): one-time, five minutes.
- Reset and verification links (``email_links``): anyone may ask for a reset; 30 minutes or a
  day.
- Revoked authorizations, :data:`REVOKED_RETENTION` after they were revoked. Revoking only marks
  a row (``revoked_at``) so that what was revoked can still be named; deleting one deletes its
  tokens, codes and descendants with it (the foreign keys cascade), which were revoked with it.
- Access tokens that expired :data:`REVOKED_RETENTION` ago (in the :data:`SUPERSEDED_WINDOW`
  after that), except each authorization's newest (the listing shows it): a client-credentials
  authorization would otherwise keep every token it ever issued.
- Login sessions ended :data:`REVOKED_RETENTION` ago, and sessions past their expiry, once none
  of their authorizations is live or still kept for its retention. A session's authorizations
  are deleted with it (the foreign key cascades), so one that still works, which an older
  password login may have, keeps its session until it dies too.
- Passkey challenges (``passkey_challenges``): anyone may ask for one to sign in with; two
  minutes.

Expired rows are deleted an hour after they expire, not at once: a poll or a replayed code in that
hour still gets its precise answer (``expired_token``; a replayed code still revokes its tokens).
Each batch is chosen in a read transaction and deleted by primary key, conditions re-checked, in
a short write transaction of its own, so the writer lock is never held for a scan and several
workers purging at once delete each row once and otherwise nothing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, delete, exists, or_, select
from sqlalchemy.orm import aliased

from ostiary.accounts.models import EmailLink, LoginSession
from ostiary.clock import utcnow
from ostiary.db import Base, Database, table_of
from ostiary.passkeys.models import PasskeyChallenge
from ostiary.tokens.models import (
    AccessToken,
    Authorization,
    AuthorizationGrant,
    DeviceAuthorization,
)

logger = logging.getLogger("ostiary.purge")

GRACE = timedelta(hours=1)
# How long a revoked authorization or an ended session is kept: long enough for the activity log
# to name what was revoked, and for a user to ask about it, before the row goes.
REVOKED_RETENTION = timedelta(days=30)
# How long after its retention a superseded access token may still be found by the purge.
SUPERSEDED_WINDOW = timedelta(days=1)
BATCH_SIZE = 500
# At most this many batches per kind and run: a backlog is worked off over several runs rather
# than in one long burst of writes.
MAX_BATCHES = 20


@dataclass(frozen=True, slots=True)
class Expiring:
    """A kind of row that expires (or is revoked): its model and when a row of it may go
    (``purgeable(cutoff, now)``, ``cutoff`` being :data:`GRACE` before ``now``)."""

    name: str
    model: type[Base]
    purgeable: Callable[[datetime, datetime], ColumnElement[bool]]


def _device_expired(cutoff: datetime, now: datetime) -> ColumnElement[bool]:
    return DeviceAuthorization.expires_at < cutoff


def _grant_expired(cutoff: datetime, now: datetime) -> ColumnElement[bool]:
    return AuthorizationGrant.expires_at < cutoff


def _link_expired(cutoff: datetime, now: datetime) -> ColumnElement[bool]:
    return EmailLink.expires_at < cutoff


def _revoked_long_ago(cutoff: datetime, now: datetime) -> ColumnElement[bool]:
    return Authorization.revoked_at < now - REVOKED_RETENTION


def _token_superseded_long_ago(cutoff: datetime, now: datetime) -> ColumnElement[bool]:
    newer = aliased(AccessToken)
    superseded = exists().where(
        newer.authorization_id == AccessToken.authorization_id,
        newer.created_at > AccessToken.created_at,
    )
    # Only tokens whose retention ended within the last day: an authorization's newest token is
    # never deleted, so without a lower bound every run would re-read all of them (each
    # personal token's, each user's last grant token: 248 ms a batch at a million stored
    # tokens). A superseded token has a day of runs to go in.
    cut = now - REVOKED_RETENTION
    return and_(
        AccessToken.expires_at < cut,
        AccessToken.expires_at >= cut - SUPERSEDED_WINDOW,
        superseded,
    )


def _challenge_expired(cutoff: datetime, now: datetime) -> ColumnElement[bool]:
    return PasskeyChallenge.expires_at < cutoff


def _session_done(cutoff: datetime, now: datetime) -> ColumnElement[bool]:
    kept_authorization = exists().where(
        Authorization.session_id == LoginSession.id,
        or_(
            and_(
                Authorization.revoked_at.is_(None),
                or_(Authorization.expires_at.is_(None), Authorization.expires_at > now),
            ),
            Authorization.revoked_at >= now - REVOKED_RETENTION,
        ),
    )
    expired = and_(
        LoginSession.ended_at.is_(None),
        LoginSession.expires_at.is_not(None),
        LoginSession.expires_at < cutoff,
    )
    ended = LoginSession.ended_at < now - REVOKED_RETENTION
    return and_(or_(expired, ended), ~kept_authorization)


EXPIRING = (
    Expiring("device and CLI logins", DeviceAuthorization, _device_expired),
    Expiring("authorization codes", AuthorizationGrant, _grant_expired),
    Expiring("reset and verification links", EmailLink, _link_expired),
    # Before the sessions: an ended session goes once its revoked authorizations have gone.
    Expiring("revoked authorizations", Authorization, _revoked_long_ago),
    Expiring("expired access tokens", AccessToken, _token_superseded_long_ago),
    Expiring("login sessions", LoginSession, _session_done),
    Expiring("passkey challenges", PasskeyChallenge, _challenge_expired),
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


def purge_expired(
    database: Database, now: datetime | None = None, kinds: Sequence[Expiring] = EXPIRING
) -> dict[str, int]:
    """Delete every kind's rows that expired more than :data:`GRACE` ago, or were revoked or
    ended more than :data:`REVOKED_RETENTION` ago, in batches; how many of each went. Higher
    layers hand their own ``kinds`` (webhook deliveries, sent mail, alerts)."""
    now = now or utcnow()
    counts: dict[str, int] = {}
    for kind in kinds:
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
