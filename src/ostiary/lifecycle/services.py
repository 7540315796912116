"""The lifecycle job (registered in ``periodic.default_jobs``): expiry warnings, expiry
notices, and the idle revocation with its warning.

Every run looks at every credential that is due, batch by batch (``lifecycle.queries``), each
batch in a transaction of its own. A notice is an alert of a lifecycle rule whose ``occasion``
makes it distinct (``alerts.rules.finding_of``): raising it again, at the next run or in
another worker at the same moment, writes nothing, so each warning goes out once by mail and
webhook (the alerts' delivery). The idle revocation re-checks the idleness in its UPDATE, so a
credential used while the job ran is not revoked.

The API key is warned before ``OSTIARY_API_KEY_MAX_AGE`` ends it, but never revoked for
idleness: Heroku keeps an account's API key until it is regenerated, and scripts that use it
once a year (a yearly report, a break-glass deploy) must not find it gone.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import func
from sqlalchemy.orm import Session

from ostiary.alerts.records import Anomaly
from ostiary.alerts.services import raise_alerts
from ostiary.config import Settings
from ostiary.db import Database
from ostiary.events import SYSTEM, record_event
from ostiary.lifecycle.queries import (
    BATCH,
    Candidate,
    Cursor,
    api_keys_created_before,
    expiring_before,
    idle_since_before,
    unused_since_before,
)
from ostiary.lifecycle.rules import Notice, expiry_notice, idle_notice
from ostiary.tokens.models import Authorization
from ostiary.tokens.services import revoke_with_descendants

IDLE_REVOKE_ACTION = "token:authorization:idle-revoke"
# Expired credentials stay live rows until the purge: only those expired this recently are
# looked at (the "expired" notice of one goes out at the first run after its expiry).
EXPIRED_LOOKBACK = timedelta(days=7)


@dataclass(slots=True)
class LifecycleOutcome:
    """What one run looked at and did (for tests and logs)."""

    looked_at: int = 0
    notices: dict[str, int] = field(default_factory=dict)
    revoked: list[str] = field(default_factory=list)

    def count(self, rule: str) -> None:
        """Count one notice of ``rule``."""
        self.notices[rule] = self.notices.get(rule, 0) + 1


Batch = Callable[[Session, Cursor], list[Candidate]]


def _walk(
    database: Database,
    batch: Batch,
    handle: Callable[[Session, Candidate], None],
    cursor: Cursor = None,
) -> int:
    """Every candidate of ``batch`` after ``cursor``, page after page, each page in its own
    transaction."""
    seen = 0
    while True:
        with database.unit_of_work(write=True) as session:
            page = batch(session, cursor)
            for candidate in page:
                handle(session, candidate)
        seen += len(page)
        if len(page) < BATCH:
            return seen
        cursor = (page[-1].at, page[-1].authorization_id)


def _anomaly(candidate: Candidate, notice: Notice, now: datetime) -> Anomaly:
    return Anomaly(
        rule=notice.rule,  # type: ignore[arg-type]  # one of LIFECYCLE_RULES (lifecycle.rules)
        account_id=candidate.account_id,
        authorization_id=candidate.authorization_id,
        observed_at=now,
        details={"occasion": notice.occasion, **notice.facts},
    )


def warn_expiries(
    database: Database,
    thresholds: Sequence[int],
    api_key_max_age: int | None = None,
    now: datetime | None = None,
) -> LifecycleOutcome:
    """Raise the expiry warnings and notices due at ``now``: for authorizations by their own
    expiry, and for API keys by ``api_key_max_age`` when set."""
    now = now or datetime.now(UTC)
    outcome = LifecycleOutcome()
    horizon = now + timedelta(seconds=max(thresholds, default=0))

    def expiry(session: Session, candidate: Candidate, expires_at: datetime) -> None:
        notice = expiry_notice(expires_at, now, thresholds)
        if notice is not None:
            raise_alerts(session, [_anomaly(candidate, notice, now)])
            outcome.count(notice.rule)

    outcome.looked_at += _walk(
        database,
        lambda session, cursor: expiring_before(session, horizon, cursor),
        lambda session, candidate: expiry(session, candidate, candidate.at),
        cursor=(now - EXPIRED_LOOKBACK, ""),
    )
    if api_key_max_age is not None:
        age = timedelta(seconds=api_key_max_age)
        outcome.looked_at += _walk(
            database,
            lambda session, cursor: api_keys_created_before(session, horizon - age, cursor),
            lambda session, candidate: expiry(session, candidate, candidate.at + age),
            cursor=(now - EXPIRED_LOOKBACK - age, ""),
        )
    return outcome


def revoke_idle(
    database: Database, revoke_after: int, warn_before: int | None, now: datetime | None = None
) -> LifecycleOutcome:
    """Warn the credentials (not API keys) whose idle revocation is ``warn_before`` away, and
    revoke those unused for ``revoke_after`` seconds, with their descendants: an event
    records each, and an "idle-revoked" notice tells the owner."""
    now = now or datetime.now(UTC)
    outcome = LifecycleOutcome()
    warn = warn_before or 0
    horizon = now - timedelta(seconds=max(0, revoke_after - warn))

    def handle(session: Session, candidate: Candidate) -> None:
        notice = idle_notice(candidate.at, now, revoke_after, warn)
        if notice is None:
            return
        if notice.rule == "idle-revoked" and not _revoke(session, candidate, revoke_after, now):
            return
        if notice.rule == "idle-revocation" and warn_before is None:
            return
        raise_alerts(session, [_anomaly(candidate, notice, now)])
        outcome.count(notice.rule)
        if notice.rule == "idle-revoked":
            outcome.revoked.append(candidate.authorization_id)

    outcome.looked_at += _walk(
        database, lambda session, cursor: idle_since_before(session, horizon, now, cursor), handle
    )
    outcome.looked_at += _walk(
        database, lambda session, cursor: unused_since_before(session, horizon, now, cursor), handle
    )
    return outcome


def _revoke(session: Session, candidate: Candidate, revoke_after: int, now: datetime) -> bool:
    """Revoke an idle credential if it is still idle (a request may have used it meanwhile),
    recording the event; whether it was."""
    cutoff = now - timedelta(seconds=revoke_after)
    revoked = revoke_with_descendants(
        session,
        Authorization.id == candidate.authorization_id,
        func.coalesce(Authorization.last_used_at, Authorization.created_at) <= cutoff,
        now=now.replace(microsecond=0),
    )
    if not revoked:
        return False
    record_event(
        session,
        SYSTEM,
        IDLE_REVOKE_ACTION,
        actor_id=candidate.account_id,
        target_type="authorization",
        target_id=candidate.authorization_id,
        details={
            "kind": candidate.kind,
            "idle_since": candidate.at.isoformat(),
            "revoke_after_seconds": revoke_after,
        },
    )
    return True


def run_lifecycle(database: Database, settings: Settings) -> LifecycleOutcome:
    """The periodic job: expiry warnings and notices, then the idle revocation."""
    outcome = warn_expiries(database, settings.expiry_warnings, settings.api_key_max_age)
    if settings.token_idle_revoke_after is not None:
        idle = revoke_idle(
            database, settings.token_idle_revoke_after, settings.idle_revocation_warning
        )
        outcome.looked_at += idle.looked_at
        outcome.revoked.extend(idle.revoked)
        for rule, count in idle.notices.items():
            outcome.notices[rule] = outcome.notices.get(rule, 0) + count
    return outcome
