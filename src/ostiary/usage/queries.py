"""Reads of usage: a credential of an account, its hourly buckets and sources, the busiest
credentials; and the history the flush's rules look at."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterator, Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from ostiary.clock import utcnow
from ostiary.oauth_clients.models import OAuthClient
from ostiary.tokens.errors import AuthorizationNotFound
from ostiary.tokens.models import Authorization, AuthorizationKind
from ostiary.usage.buffer import ADDRESS, AGENT
from ostiary.usage.models import UsageHour, UsageRefusal, UsageSource
from ostiary.usage.records import BusyCredential, CredentialUsage, HourBucket, Source

API_KEY = "~"
# Ids per IN list: well under SQLite's and PostgreSQL's limits on bound parameters.
CHUNK = 500


def _chunks(ids: Collection[str]) -> Iterator[list[str]]:
    ordered = sorted(ids)
    for start in range(0, len(ordered), CHUNK):
        yield ordered[start : start + CHUNK]


def credential_of(session: Session, account_id: str, identity: str) -> Authorization:
    """One of the account's authorizations, revoked ones included (a dead credential's tries
    are its usage too), or its API key as ``~``; another account's is not found."""
    query = select(Authorization).where(Authorization.account_id == account_id)
    if identity == API_KEY:
        query = query.where(Authorization.kind == AuthorizationKind.API_KEY)
    else:
        query = query.where(Authorization.id == identity)
    authorization = session.scalars(query.limit(1)).first()
    if authorization is None:
        raise AuthorizationNotFound()
    return authorization


def client_authorizations(session: Session, account_id: str, client_id: str) -> list[str]:
    """The ids of the account's authorizations granted to one client, revoked ones included."""
    return list(
        session.scalars(
            select(Authorization.id).where(
                Authorization.account_id == account_id, Authorization.client_id == client_id
            )
        )
    )


def usage_of(
    session: Session, authorization_ids: Sequence[str], since: datetime, until: datetime
) -> CredentialUsage:
    """The usage of these credentials (together) in the hours from ``since`` to ``until``,
    and every address and user agent they were used from."""
    hours: dict[tuple[datetime, str, str], int] = defaultdict(int)
    sources: dict[tuple[str, str], list[Source]] = defaultdict(list)
    for chunk in _chunks(set(authorization_ids)):
        for row in session.execute(
            select(
                UsageHour.hour,
                UsageHour.route_group,
                UsageHour.status_class,
                func.sum(UsageHour.count),
            )
            .where(
                UsageHour.authorization_id.in_(chunk),
                UsageHour.hour >= since,
                UsageHour.hour < until,
            )
            .group_by(UsageHour.hour, UsageHour.route_group, UsageHour.status_class)
        ):
            hours[(row[0], row[1], row[2])] += int(row[3])
        for source in session.scalars(
            select(UsageSource).where(UsageSource.authorization_id.in_(chunk))
        ):
            sources[(source.kind, source.value)].append(
                Source(source.kind, source.value, source.first_seen, source.last_seen, source.count)
            )
    merged = [
        Source(
            kind,
            value,
            min(s.first_seen for s in seen),
            max(s.last_seen for s in seen),
            sum(s.count for s in seen),
        )
        for (kind, value), seen in sources.items()
    ]
    merged.sort(key=lambda s: s.last_seen, reverse=True)
    return CredentialUsage(
        since=since,
        until=until,
        hours=sorted(
            (
                HourBucket(hour, group, status, count)
                for (hour, group, status), count in hours.items()
            ),
            key=lambda b: (b.hour, b.route_group, b.status_class),
        ),
        addresses=[s for s in merged if s.kind == ADDRESS],
        agents=[s for s in merged if s.kind == AGENT],
    )


def busiest(
    session: Session, account_id: str, since: datetime, limit: int = 5
) -> list[BusyCredential]:
    """The account's live credentials with the most requests since ``since``, most first.
    Revoked and expired ones are left out: their tries show on their own page and in the
    dead-credential alert, and there is nothing left to do about them here."""
    now = utcnow()
    total = func.sum(UsageHour.count).label("requests")
    rows = session.execute(
        select(
            Authorization.id,
            Authorization.kind,
            Authorization.description,
            Authorization.client_id,
            OAuthClient.name,
            total,
        )
        .join(Authorization, Authorization.id == UsageHour.authorization_id)
        .outerjoin(OAuthClient, OAuthClient.id == Authorization.client_id)
        .where(
            UsageHour.account_id == account_id,
            UsageHour.hour >= since,
            Authorization.revoked_at.is_(None),
            or_(Authorization.expires_at.is_(None), Authorization.expires_at > now),
        )
        .group_by(
            Authorization.id,
            Authorization.kind,
            Authorization.description,
            Authorization.client_id,
            OAuthClient.name,
        )
        .order_by(total.desc(), Authorization.id)
        .limit(limit)
    ).all()
    return [BusyCredential(r[0], r[1], r[2], r[3], r[4], int(r[5])) for r in rows]


# The flush's history -------------------------------------------------------------------------


def owners_of(session: Session, authorization_ids: Collection[str]) -> dict[str, str]:
    """The account of each of these authorizations that still exists."""
    owners: dict[str, str] = {}
    for chunk in _chunks(authorization_ids):
        rows = session.execute(
            select(Authorization.id, Authorization.account_id).where(Authorization.id.in_(chunk))
        )
        owners.update({row[0]: row[1] for row in rows})
    return owners


def hour_totals(
    session: Session, authorization_ids: Collection[str], since: datetime
) -> dict[str, dict[datetime, int]]:
    """Each credential's requests per hour from ``since`` on (hours with requests only)."""
    totals: dict[str, dict[datetime, int]] = defaultdict(dict)
    for chunk in _chunks(authorization_ids):
        for authorization_id, hour, count in session.execute(
            select(UsageHour.authorization_id, UsageHour.hour, func.sum(UsageHour.count))
            .where(UsageHour.authorization_id.in_(chunk), UsageHour.hour >= since)
            .group_by(UsageHour.authorization_id, UsageHour.hour)
        ):
            totals[authorization_id][hour] = int(count)
    return totals


def known_sources(
    session: Session, authorization_ids: Collection[str]
) -> dict[str, list[tuple[str, str, datetime]]]:
    """Each credential's stored sources: (kind, value, last seen)."""
    known: dict[str, list[tuple[str, str, datetime]]] = defaultdict(list)
    for chunk in _chunks(authorization_ids):
        for authorization_id, kind, value, last_seen in session.execute(
            select(
                UsageSource.authorization_id,
                UsageSource.kind,
                UsageSource.value,
                UsageSource.last_seen,
            ).where(UsageSource.authorization_id.in_(chunk))
        ):
            known[authorization_id].append((kind, value, last_seen))
    return known


def refusals_since(
    session: Session, authorization_ids: Collection[str], since: datetime
) -> dict[str, dict[datetime, int]]:
    """Each credential's stored refusals per minute from ``since`` on."""
    found: dict[str, dict[datetime, int]] = defaultdict(dict)
    for chunk in _chunks(authorization_ids):
        for authorization_id, minute, count in session.execute(
            select(UsageRefusal.authorization_id, UsageRefusal.minute, UsageRefusal.count).where(
                UsageRefusal.authorization_id.in_(chunk), UsageRefusal.minute >= since
            )
        ):
            found[authorization_id][minute] = count
    return found
