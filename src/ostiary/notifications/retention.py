"""How long the notifications' memory is kept, as kinds of the purge (``ostiary.purge.Expiring``,
run by the periodic job "purge expired"): a sign-in place unused for
``rules.PLACE_RETENTION`` (a year; its next sign-in notifies again), and an event's "notified"
mark after ``rules.SENT_RETENTION`` (the sealer tells of an event within minutes)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement

from ostiary.notifications.models import SentNotification, SignInPlaceRow
from ostiary.notifications.rules import PLACE_RETENTION, SENT_RETENTION
from ostiary.purge import Expiring


def _place_unused(cutoff: datetime, now: datetime) -> ColumnElement[bool]:
    return SignInPlaceRow.last_seen_at < now - PLACE_RETENTION


def _sent_long_ago(cutoff: datetime, now: datetime) -> ColumnElement[bool]:
    return SentNotification.created_at < now - SENT_RETENTION


FORGOTTEN = (
    Expiring("unused sign-in places", SignInPlaceRow, _place_unused),
    Expiring("notified events", SentNotification, _sent_long_ago),
)
