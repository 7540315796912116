"""Reads of alerts and alert policies."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ostiary.alerts.errors import AlertNotFound
from ostiary.alerts.models import Alert, AlertPolicy
from ostiary.alerts.records import RULES, AlertPolicyRecord, RaisedAlert
from ostiary.tokens.errors import AuthorizationNotFound
from ostiary.tokens.models import Authorization


def unseen_count(session: Session, account_id: str) -> int:
    """How many of the account's alerts are not yet seen (one indexed count: the dashboard's
    notice runs it on every page)."""
    count = session.scalar(
        select(func.count())
        .select_from(Alert)
        .where(Alert.account_id == account_id, Alert.seen_at.is_(None))
    )
    return int(count or 0)


def alerts_of(account_id: str) -> Select[Alert]:
    """The account's alerts, for pagination (never another account's)."""
    return select(Alert).where(Alert.account_id == account_id)


def newest_alerts(session: Session, account_id: str, limit: int = 100) -> list[RaisedAlert]:
    """The account's latest alerts, newest first, each with its credential's suspension."""
    rows = session.scalars(
        alerts_of(account_id).order_by(Alert.raised_at.desc(), Alert.id.desc()).limit(limit)
    ).all()
    return records_of(session, rows)


def find_alert(session: Session, account_id: str, alert_id: str) -> Alert:
    """One of the account's alerts; AlertNotFound for any other (another account's included)."""
    alert = session.scalar(alerts_of(account_id).where(Alert.id == alert_id))
    if alert is None:
        raise AlertNotFound()
    return alert


def records_of(session: Session, alerts: Sequence[Alert]) -> list[RaisedAlert]:
    """Alerts as their owner reads them, one query for the suspensions they caused."""
    ids = [alert.id for alert in alerts]
    suspending = (
        set(
            session.scalars(
                select(Authorization.suspended_by).where(
                    Authorization.suspended_by.in_(ids),
                    Authorization.suspended_at.is_not(None),
                    Authorization.revoked_at.is_(None),
                )
            )
        )
        if ids
        else set()
    )
    return [
        RaisedAlert(
            id=alert.id,
            account_id=alert.account_id,
            authorization_id=alert.authorization_id,
            rule=alert.rule,
            raised_at=alert.raised_at,
            seen_at=alert.seen_at,
            details=dict(alert.details),
            suspended=alert.id in suspending,
        )
        for alert in alerts
    ]


def policy_of(session: Session, account_id: str) -> AlertPolicyRecord:
    """The account's alert policy (suspending nothing when it never set one)."""
    stored = session.get(AlertPolicy, account_id)
    if stored is None:
        return AlertPolicyRecord()
    return AlertPolicyRecord(tuple(rule for rule in RULES if rule in stored.suspend_on))


def find_credential(
    session: Session, account_id: str, authorization_id: str, *, for_update: bool = False
) -> Authorization:
    """One of the account's live (not revoked) authorizations, its API key included."""
    query = select(Authorization).where(
        Authorization.id == authorization_id,
        Authorization.account_id == account_id,
        Authorization.revoked_at.is_(None),
    )
    if for_update:
        query = query.with_for_update(of=Authorization)
    found = session.scalar(query)
    if found is None:
        raise AuthorizationNotFound()
    return found
