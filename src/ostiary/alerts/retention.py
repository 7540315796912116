"""How long alerts are kept, as a kind of the purge (``ostiary.purge.Expiring``): as long as
the activity log keeps the events that told of them (``OSTIARY_EVENT_RETENTION_DAYS``), except
an alert whose suspension still holds its credential (the owner reinstates from it)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, exists

from ostiary.alerts.models import Alert
from ostiary.purge import Expiring
from ostiary.tokens.models import Authorization


def alerts_older_than(days: int) -> Expiring:
    """The purge's kind for alerts raised more than ``days`` days ago."""
    retention = timedelta(days=days)

    def raised_long_ago(cutoff: datetime, now: datetime) -> ColumnElement[bool]:
        suspending = exists().where(
            Authorization.suspended_by == Alert.id, Authorization.suspended_at.is_not(None)
        )
        return and_(Alert.raised_at < now - retention, ~suspending)

    return Expiring("alerts", Alert, raised_long_ago)
