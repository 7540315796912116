"""Raising alerts, and what their owner does about them: mark them seen, set the policy,
reinstate a suspended credential.

:func:`raise_alerts` is the :data:`~ostiary.alerts.records.AlertSink` the usage flush hands its
anomalies to; :func:`alert_at_authentication` is the authenticator's alarm (dormant use, dead
credentials). Each finding raises its alert once (``rules.finding_of``): the row's unique
``finding`` makes a second raise write nothing, in any worker. A raised alert is an ``alert:<rule>``
event (mailed and delivered to webhooks from the sealed log by ``ostiary.webhooks``) and counts in
``ostiary_alerts_raised_total``; when the account's policy names the rule, the credential is
suspended.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import Insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ostiary.alerts.errors import ReinstateNotAllowed
from ostiary.alerts.models import Alert, AlertPolicy
from ostiary.alerts.queries import find_alert, policy_of, records_of
from ostiary.alerts.records import AlertPolicyRecord, AlertSink, Anomaly, RaisedAlert
from ostiary.alerts.rules import (
    CLIENT_SECRET,
    as_rule,
    credential_label,
    finding_of,
    may_suspend,
    safe_facts,
    summary_of,
    validated_suspend_on,
)
from ostiary.db import new_id, table_of
from ostiary.events import SYSTEM, RequestContext, record_event
from ostiary.metrics import ALERTS_RAISED
from ostiary.oauth_clients.models import OAuthClient
from ostiary.tokens.authenticator import AuthenticationFinding
from ostiary.tokens.models import Authorization
from ostiary.tokens.services import lineage
from ostiary.unit import Unit

logger = logging.getLogger(__name__)
_alerts = table_of(Alert)


def raise_alerts(
    session: Session, anomalies: Sequence[Anomaly], context: RequestContext = SYSTEM
) -> None:
    """Raise each anomaly's alert once, in the caller's transaction (the AlertSink), in the
    order of their credentials' ids: the rows a suspension writes are then locked in the order
    a token's storing reads them (``tokens.client_credentials``), and the two never deadlock."""
    for anomaly in sorted(anomalies, key=lambda found: found.authorization_id or ""):
        raise_alert(session, anomaly, context)


SINK: AlertSink = raise_alerts
"""The sink the usage flush is given (``app.frequent_jobs``)."""


def alert_at_authentication(session: Session, finding: AuthenticationFinding) -> str | None:
    """The authenticator's alarm: raise the finding's alert; the alert's id when it suspended
    the credential (so the request that revealed it is refused too)."""
    raised = raise_alert(
        session,
        Anomaly(
            rule=finding.rule,
            account_id=finding.account_id,
            authorization_id=finding.authorization_id,
            observed_at=finding.observed_at,
            details=finding.details,
        ),
        finding.context,
    )
    return raised.id if raised is not None and raised.suspended else None


def _insert(session: Session) -> Insert:
    # Raised at most once per finding, even by two workers at once: a duplicate is skipped by
    # the database, not refused (which would roll back the whole usage flush).
    # RETURNING says whether the row went in (a rowcount may read -1 on some drivers' paths).
    if session.get_bind().dialect.name == "postgresql":
        statement: Insert = postgresql.insert(_alerts).on_conflict_do_nothing(
            index_elements=["finding"]
        )
    else:
        statement = sqlite.insert(_alerts).on_conflict_do_nothing(index_elements=["finding"])
    return statement.returning(_alerts.c.id)


def _credential(session: Session, anomaly: Anomaly) -> Authorization | OAuthClient | None:
    """The authorization the anomaly names, or the client whose secret it is about; either only
    when the anomaly's account owns it."""
    if anomaly.authorization_id is None:
        return session.scalar(
            select(OAuthClient).where(
                OAuthClient.id == anomaly.client_id, OAuthClient.owner_id == anomaly.account_id
            )
        )
    return session.scalar(
        select(Authorization).where(
            Authorization.id == anomaly.authorization_id,
            Authorization.account_id == anomaly.account_id,
        )
    )


def _described(credential: Authorization | OAuthClient) -> dict[str, object]:
    if isinstance(credential, OAuthClient):
        return {
            "id": credential.id,
            "label": credential_label(CLIENT_SECRET, "", credential.name),
            "kind": CLIENT_SECRET,
            "description": credential.description,
            "client": {"id": credential.id, "name": credential.name},
        }
    client: OAuthClient | None = credential.client
    return {
        "id": credential.id,
        "label": credential_label(
            credential.kind, credential.description, client.name if client else None
        ),
        "kind": credential.kind,
        "description": credential.description,
        "client": {"id": client.id, "name": client.name} if client else None,
    }


def raise_alert(session: Session, anomaly: Anomaly, context: RequestContext) -> RaisedAlert | None:
    """Raise one anomaly's alert; None when this finding was raised before (or names a
    credential that is not the account's)."""
    credential = _credential(session, anomaly)
    if credential is None:
        logger.warning("anomaly %s about an unknown credential, dropped", anomaly.rule)
        return None
    # To the microsecond (utcnow() drops them): the list pages by raised_at.
    now = datetime.now(UTC)
    # Only an authorization can be suspended (a client's secret is retired by its leak report).
    authorization = credential if isinstance(credential, Authorization) else None
    suspend = (
        authorization is not None
        and anomaly.rule in policy_of(session, anomaly.account_id).suspend_on
        and may_suspend(anomaly.rule)
        and authorization.revoked_at is None
        and authorization.suspended_at is None
    )
    facts = safe_facts(anomaly.details)
    described = _described(credential)
    alert_id = new_id()
    details: dict[str, object] = {
        "alert_id": alert_id,
        "rule": anomaly.rule,
        "summary": summary_of(anomaly.rule, str(described["label"]), facts),
        "credential": described,
        "facts": facts,
        "observed_at": anomaly.observed_at.isoformat(),
        "suspended": suspend,
    }
    inserted = session.connection().execute(
        _insert(session),
        {
            "id": alert_id,
            "account_id": anomaly.account_id,
            "authorization_id": authorization.id if authorization else None,
            "rule": anomaly.rule,
            "finding": finding_of(anomaly),
            "raised_at": now,
            "seen_at": None,
            "details": details,
        },
    )
    if inserted.first() is None:
        return None
    record_event(
        session,
        context,
        f"alert:{anomaly.rule}",
        actor_id=anomaly.account_id,
        target_type="authorization" if authorization else "client",
        target_id=credential.id,
        details=details,
    )
    if suspend and authorization is not None:
        _suspend(session, authorization, alert_id, now, context)
    ALERTS_RAISED.labels(anomaly.rule).inc()
    return RaisedAlert(
        id=alert_id,
        account_id=anomaly.account_id,
        authorization_id=authorization.id if authorization else None,
        rule=anomaly.rule,
        raised_at=now,
        seen_at=None,
        details=details,
        suspended=suspend,
    )


def _suspend(
    session: Session,
    credential: Authorization,
    alert_id: str,
    now: datetime,
    context: RequestContext,
) -> None:
    """Suspend the credential and its live descendants, by this alert: a child made with a
    stolen token would otherwise go on working (and could reinstate its parent). Descendants
    already suspended keep their own alert. A storing of the client's client-credentials
    tokens that would make a fresh authorization for another scope set reads these rows locked
    first, so it waits for this suspension and sees it (``tokens.client_credentials``)."""
    suspended = 0
    for generation in lineage(session, Authorization.id == credential.id):
        result = session.execute(
            update(Authorization)
            .where(Authorization.id.in_(generation), Authorization.suspended_at.is_(None))
            .values(suspended_at=now, suspended_by=alert_id)
            .execution_options(synchronize_session="fetch")
        )
        suspended += int(result.rowcount or 0)  # type: ignore[attr-defined]
    record_event(
        session,
        context,
        "token:authorization:suspend",
        actor_id=credential.account_id,
        target_type="authorization",
        target_id=credential.id,
        details={"alert_id": alert_id, "descendants": max(suspended - 1, 0)},
    )


def mark_seen(unit: Unit, account_id: str, alert_id: str) -> RaisedAlert:
    """Mark one of the account's alerts seen (again: it keeps the first time)."""
    alert = find_alert(unit.session, account_id, alert_id)
    if alert.seen_at is None:
        alert.seen_at = unit.now()
        unit.session.flush()
    return records_of(unit.session, [alert])[0]


def mark_all_seen(unit: Unit, account_id: str) -> int:
    """Mark every unseen alert of the account seen; how many were."""
    result = unit.session.connection().execute(
        update(_alerts)
        .where(_alerts.c.account_id == account_id, _alerts.c.seen_at.is_(None))
        .values(seen_at=unit.now())
    )
    return int(result.rowcount or 0)


def set_policy(unit: Unit, account_id: str, suspend_on: Sequence[str]) -> AlertPolicyRecord:
    """Replace the account's policy: the rules whose alert suspends the credential."""
    rules = validated_suspend_on(suspend_on)
    stored = unit.session.get(AlertPolicy, account_id)
    if stored is None:
        unit.session.add(AlertPolicy(account_id=account_id, suspend_on=rules))
    else:
        stored.suspend_on = rules
    unit.session.flush()
    unit.record(
        "account:alert-policy:update",
        actor_id=account_id,
        target_type="account",
        target_id=account_id,
        details={"suspend_on": list(rules)},
    )
    return AlertPolicyRecord(tuple(as_rule(rule) for rule in rules))


def reinstate(
    unit: Unit, authorization: Authorization, *, by_authorization_id: str | None = None
) -> Authorization:
    """Lift a credential's suspension, and that of its descendants suspended by the same alert
    (nothing to do when it is not suspended).

    ``by_authorization_id`` is the credential asking (an API token; None from the dashboard's
    password-proved session): ReinstateNotAllowed (403) when it is the suspended credential or
    one of its descendants, which would let a stolen key's child lift the key's suspension.
    """
    if authorization.suspended_at is None:
        return authorization
    alert_id = authorization.suspended_by
    family = [
        found
        for generation in lineage(unit.session, Authorization.id == authorization.id)
        for found in generation
    ]
    if by_authorization_id is not None and (
        by_authorization_id == authorization.id or by_authorization_id in family
    ):
        raise ReinstateNotAllowed()
    descendants = [found for found in family if found != authorization.id]
    authorization.suspended_at = None
    authorization.suspended_by = None
    lifted = 0
    if descendants and alert_id is not None:
        result = unit.session.execute(
            update(Authorization)
            .where(Authorization.id.in_(descendants), Authorization.suspended_by == alert_id)
            .values(suspended_at=None, suspended_by=None)
            .execution_options(synchronize_session="fetch")
        )
        lifted = int(result.rowcount or 0)  # type: ignore[attr-defined]
    unit.session.flush()
    unit.record(
        "token:authorization:reinstate",
        actor_id=authorization.account_id,
        target_type="authorization",
        target_id=authorization.id,
        details={"alert_id": alert_id, "descendants": lifted},
    )
    return authorization
