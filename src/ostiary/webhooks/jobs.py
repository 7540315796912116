"""The webhooks' and mail's jobs (``app.delivery_jobs``, in a runner of their own so a slow
receiver never holds up the usage flush or the sealing) and their part of the activity log's
sealing (its ``SealedEventsSubscriber``s), each built from the settings."""

from __future__ import annotations

import time
from datetime import timedelta

from ostiary.activity.records import SealedEventsSubscriber
from ostiary.config import Settings
from ostiary.db import Database
from ostiary.mail.smtp import Mailer
from ostiary.security.sealing import Sealer, mail_body_sealer
from ostiary.security.server_secret import load_or_create_secret
from ostiary.webhooks.alert_mail import alert_mail_enqueuer
from ostiary.webhooks.dispatch import BATCH, DispatchRun, deliver_due
from ostiary.webhooks.outbox import MailRun, send_due_mail
from ostiary.webhooks.secrets import SecretBox, box_for
from ostiary.webhooks.services import deliveries_enqueuer


def sealed_event_subscribers(settings: Settings) -> tuple[SealedEventsSubscriber, ...]:
    """What the sealer tells of new events: the webhook deliveries' enqueuer, and the alert
    mail's when an SMTP server is configured."""
    window = timedelta(seconds=settings.webhook_retry_seconds)
    mail = alert_mail_enqueuer(settings)
    return (deliveries_enqueuer(window), *((mail,) if mail is not None else ()))


def send_deliveries(
    database: Database, settings: Settings, *, box: SecretBox | None = None
) -> DispatchRun:
    """One run of the delivery job: batches while they come full (a backlog), for at most
    about one interval (``OSTIARY_USAGE_FLUSH_SECONDS``), so a backlog does not keep the mail
    waiting."""
    box = box or box_for(settings)
    started = time.monotonic()
    delivered = failed = abandoned = 0
    while True:
        run = deliver_due(
            database,
            box,
            timeout=settings.webhook_timeout,
            allow_loopback=settings.webhook_allow_loopback,
        )
        delivered, failed = delivered + run.delivered, failed + run.failed
        abandoned += run.abandoned
        full = run.delivered + run.failed + run.abandoned >= BATCH
        if not full or time.monotonic() - started >= settings.usage_flush_seconds:
            return DispatchRun(delivered=delivered, failed=failed, abandoned=abandoned)


def send_mail(database: Database, mailer: Mailer, seal: Sealer | None = None) -> MailRun:
    """One run of the mail job (``seal`` opens the bodies of mail that carries a link)."""
    return send_due_mail(database, mailer, seal=seal)


def body_seal(settings: Settings) -> Sealer:
    """The seal of link-bearing mail bodies, keyed from this server's secret."""
    return mail_body_sealer(load_or_create_secret(settings))
