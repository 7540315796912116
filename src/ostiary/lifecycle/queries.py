"""What the lifecycle job has to look at, read in bounded batches by keyset (``(time, id)``
after the last one seen) so that one run walks every due credential without holding a long
transaction, and each batch reads an index (``ix_authorizations_expires_at``,
``ix_authorizations_last_used_at``, migration 0020)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Row, and_, or_, select, true
from sqlalchemy.orm import InstrumentedAttribute, Session

from ostiary.lifecycle.records import ExpiringCredential
from ostiary.policies.models import AccountTokenPolicy
from ostiary.tokens.models import AccessToken, Authorization, AuthorizationKind

BATCH = 500


@dataclass(frozen=True, slots=True)
class Candidate:
    """A live credential the job may warn about or revoke, and its time (expiry, or the start
    of its idleness) that the batch is ordered by."""

    authorization_id: str
    account_id: str
    kind: str
    at: datetime


Cursor = tuple[datetime, str] | None


def _candidates(rows: Iterable[Row[str, str, str, datetime | None]]) -> list[Candidate]:
    # Each query reads rows whose time is not NULL (its WHERE says so).
    return [Candidate(row[0], row[1], row[2], row[3]) for row in rows if row[3] is not None]


def _after(column: InstrumentedAttribute[datetime | None], cursor: Cursor) -> ColumnElement[bool]:
    if cursor is None:
        return true()
    at, last_id = cursor
    return or_(column > at, and_(column == at, Authorization.id > last_id))


def _live() -> ColumnElement[bool]:
    return and_(Authorization.revoked_at.is_(None))


def expiring_before(
    session: Session, horizon: datetime, cursor: Cursor = None, limit: int = BATCH
) -> list[Candidate]:
    """Live authorizations whose own expiry is before ``horizon`` (past ones too, for the
    "expired" notice), in expiry order after ``cursor``."""
    rows = session.execute(
        select(
            Authorization.id, Authorization.account_id, Authorization.kind, Authorization.expires_at
        )
        .where(
            _live(),
            Authorization.expires_at.is_not(None),
            Authorization.expires_at <= horizon,
            _after(Authorization.expires_at, cursor),
        )
        .order_by(Authorization.expires_at, Authorization.id)
        .limit(limit)
    )
    return _candidates(rows)


def _current_key_token() -> ColumnElement[bool]:
    """The API key's current token: its age is the key's, counted from its last regeneration
    (a token retiring in a rotation's grace is an older one)."""
    return and_(
        AccessToken.authorization_id == Authorization.id,
        AccessToken.revoked_at.is_(None),
        AccessToken.retiring_at.is_(None),
    )


def api_keys_created_before(
    session: Session, horizon: datetime, cursor: Cursor = None, limit: int = BATCH
) -> list[Candidate]:
    """Live API keys whose current token was issued before ``horizon`` (those an
    ``OSTIARY_API_KEY_MAX_AGE`` ends soon), in issue order after ``cursor``. API keys are one per
    account: the account index bounds it."""
    rows = session.execute(
        select(
            Authorization.id, Authorization.account_id, Authorization.kind, AccessToken.created_at
        )
        .join(AccessToken, _current_key_token())
        .where(
            _live(),
            Authorization.kind == AuthorizationKind.API_KEY,
            AccessToken.created_at <= horizon,
            _after(AccessToken.created_at, cursor),
        )
        .order_by(AccessToken.created_at, Authorization.id)
        .limit(limit)
    )
    return _candidates(rows)


def _idle_before(
    session: Session,
    since: InstrumentedAttribute[datetime | None],
    used: ColumnElement[bool],
    horizon: datetime,
    now: datetime,
    cursor: Cursor,
    limit: int,
) -> list[Candidate]:
    """Live, unexpired credentials other than API keys matching ``used`` whose idleness
    started (``since``) before ``horizon``, in that order after ``cursor``."""
    rows = session.execute(
        select(Authorization.id, Authorization.account_id, Authorization.kind, since)
        .where(
            _live(),
            Authorization.kind != AuthorizationKind.API_KEY,
            or_(Authorization.expires_at.is_(None), Authorization.expires_at > now),
            used,
            since <= horizon,
            _after(since, cursor),
        )
        .order_by(since, Authorization.id)
        .limit(limit)
    )
    return _candidates(rows)


def idle_since_before(
    session: Session, horizon: datetime, now: datetime, cursor: Cursor = None, limit: int = BATCH
) -> list[Candidate]:
    """Live, unexpired credentials other than API keys last used before ``horizon``, in
    last-use order after ``cursor``. Never-used ones are read by :func:`unused_since_before`."""
    used = Authorization.last_used_at.is_not(None)
    return _idle_before(session, Authorization.last_used_at, used, horizon, now, cursor, limit)


def unused_since_before(
    session: Session, horizon: datetime, now: datetime, cursor: Cursor = None, limit: int = BATCH
) -> list[Candidate]:
    """Live, unexpired credentials other than API keys never used and made before ``horizon``,
    in creation order after ``cursor``."""
    never = Authorization.last_used_at.is_(None)
    return _idle_before(session, Authorization.created_at, never, horizon, now, cursor, limit)


def any_outliving(session: Session, cap: datetime) -> bool:
    """Whether a live token but an API key would outlive ``cap``."""
    found = session.scalar(
        select(Authorization.id)
        .where(
            _live(),
            Authorization.kind != AuthorizationKind.API_KEY,
            or_(Authorization.expires_at.is_(None), Authorization.expires_at > cap),
        )
        .limit(1)
    )
    return found is not None


def expiring_of_account(
    session: Session, account_id: str, now: datetime, until: datetime, api_key_max_age: int | None
) -> list[ExpiringCredential]:
    """The account's live credentials that expire between ``now`` and ``until``, soonest first:
    by their own expiry, and the API key by ``api_key_max_age`` (its current token's issue plus
    the age)."""
    found = [
        ExpiringCredential(row.id, row.kind, row.description, row.expires_at)
        for row in session.scalars(
            select(Authorization).where(
                Authorization.account_id == account_id,
                _live(),
                Authorization.expires_at > now,
                Authorization.expires_at <= until,
            )
        )
        if row.expires_at is not None
    ]
    key = current_api_key(session, account_id) if api_key_max_age is not None else None
    if key is not None and api_key_max_age is not None:
        # The API key never expires of itself (a policy's caps leave it alone): its age does.
        ends = key.at + timedelta(seconds=api_key_max_age)
        found = [each for each in found if each.authorization_id != key.authorization_id]
        if now < ends <= until:
            found.append(ExpiringCredential(key.authorization_id, key.kind, "API key", ends))
    return sorted(found, key=lambda each: each.expires_at)


@dataclass(frozen=True, slots=True)
class AccountCredential:
    """A live credential (not the API key) of an account with a policy of its own, with the
    times its policy decides by."""

    authorization_id: str
    account_id: str
    kind: str
    created_at: datetime
    expires_at: datetime | None
    last_used_at: datetime | None


def accounts_with(
    session: Session, setting: ColumnElement[bool], after: str = "", limit: int = BATCH
) -> list[str]:
    """The accounts whose own token policy row matches ``setting`` (e.g. an
    ``idle_revoke_after`` of their own), in id order after ``after``: the only accounts the
    job reads one by one."""
    return list(
        session.scalars(
            select(AccountTokenPolicy.account_id)
            .where(setting, AccountTokenPolicy.account_id > after)
            .order_by(AccountTokenPolicy.account_id)
            .limit(limit)
        )
    )


def credentials_of_account(
    session: Session,
    account_id: str,
    *condition: ColumnElement[bool],
    after: str = "",
    limit: int = BATCH,
) -> list[AccountCredential]:
    """The account's live credentials other than the API key that match ``condition``, in id
    order after ``after`` (the account index bounds it)."""
    rows = session.execute(
        select(
            Authorization.id,
            Authorization.account_id,
            Authorization.kind,
            Authorization.created_at,
            Authorization.expires_at,
            Authorization.last_used_at,
        )
        .where(
            Authorization.account_id == account_id,
            _live(),
            Authorization.kind != AuthorizationKind.API_KEY,
            Authorization.id > after,
            *condition,
        )
        .order_by(Authorization.id)
        .limit(limit)
    )
    return [AccountCredential(*row) for row in rows]


def current_api_key(session: Session, account_id: str) -> Candidate | None:
    """The account's live API key and when its current token was issued (its age's start)."""
    row = session.execute(
        select(
            Authorization.id, Authorization.account_id, Authorization.kind, AccessToken.created_at
        )
        .join(AccessToken, _current_key_token())
        .where(
            Authorization.account_id == account_id,
            Authorization.kind == AuthorizationKind.API_KEY,
            _live(),
        )
    ).first()
    return None if row is None else Candidate(row[0], row[1], row[2], row[3])
