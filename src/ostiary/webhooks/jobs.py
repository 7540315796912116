"""The webhooks' and mail's part of the server's frequent jobs (``app.frequent_jobs``) and of
the activity log's sealing (its ``SealedEventsSubscriber``s), each built from the settings."""

from __future__ import annotations

from datetime import timedelta

from ostiary.activity.records import SealedEventsSubscriber
from ostiary.config import Settings
from ostiary.db import Database
from ostiary.mail.smtp import Mailer
from ostiary.webhooks.alert_mail import alert_mail_enqueuer
from ostiary.webhooks.dispatch import DispatchRun, deliver_due
from ostiary.webhooks.outbox import MailRun, send_due_mail
from ostiary.webhooks.secrets import box_for
from ostiary.webhooks.services import deliveries_enqueuer


def sealed_event_subscribers(settings: Settings) -> tuple[SealedEventsSubscriber, ...]:
    """What the sealer tells of new events: the webhook deliveries' enqueuer, and the alert
    mail's when an SMTP server is configured."""
    window = timedelta(seconds=settings.webhook_retry_seconds)
    mail = alert_mail_enqueuer(settings)
    return (deliveries_enqueuer(window), *((mail,) if mail is not None else ()))


def send_deliveries(database: Database, settings: Settings) -> DispatchRun:
    """One run of the delivery job."""
    return deliver_due(database, box_for(settings), timeout=settings.webhook_timeout)


def send_mail(database: Database, mailer: Mailer) -> MailRun:
    """One run of the mail job."""
    return send_due_mail(database, mailer)
