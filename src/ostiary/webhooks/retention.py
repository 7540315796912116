"""How long finished webhook deliveries and sent mail are kept, as kinds of the purge
(``ostiary.purge.Expiring``, run by the periodic job "purge expired").

A delivery that succeeded or was given up is kept :data:`DELIVERY_RETENTION` (30 days, for the
owner to look at in ``/account/webhook-deliveries``); a mail that was sent or given up
:data:`MAIL_RETENTION` (7 days: its body names the account's credentials and addresses, and
nothing reads it once sent). Pending and retrying rows are never deleted, except a sealed mail
(one that carries a link) past its window: its link has expired, and no server is sending it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_

from ostiary.purge import Expiring
from ostiary.webhooks.models import WebhookDelivery
from ostiary.webhooks.outbox import OutboxMail
from ostiary.webhooks.records import FAILED, SUCCEEDED

DELIVERY_RETENTION = timedelta(days=30)
MAIL_RETENTION = timedelta(days=7)
_FINISHED_DELIVERY = (SUCCEEDED, FAILED)
_FINISHED_MAIL = ("sent", FAILED)


def _delivery_done(cutoff: datetime, now: datetime) -> ColumnElement[bool]:
    return and_(
        WebhookDelivery.status.in_(_FINISHED_DELIVERY),
        WebhookDelivery.created_at < now - DELIVERY_RETENTION,
    )


def _mail_done(cutoff: datetime, now: datetime) -> ColumnElement[bool]:
    return and_(
        OutboxMail.status.in_(_FINISHED_MAIL),
        OutboxMail.created_at < now - MAIL_RETENTION,
    )


def _sealed_mail_stale(cutoff: datetime, now: datetime) -> ColumnElement[bool]:
    return and_(OutboxMail.sealed.is_(True), OutboxMail.give_up_at < cutoff)


FINISHED = (
    Expiring("finished webhook deliveries", WebhookDelivery, _delivery_done),
    Expiring("sent mail", OutboxMail, _mail_done),
    Expiring("unsent link mail", OutboxMail, _sealed_mail_stale),
)
