"""Finished deliveries and sent mail are pruned after their retention; what is still to be sent
stays, however old."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ostiary.clock import utcnow
from ostiary.purge import purge_expired
from ostiary.webhooks.models import WebhookDelivery
from ostiary.webhooks.outbox import OutboxMail
from ostiary.webhooks.retention import DELIVERY_RETENTION, FINISHED, MAIL_RETENTION
from tests.unit.webhooks.conftest import World


def _delivery(world: World, webhook_id: str, status: str, age: timedelta) -> str:
    made = utcnow() - age
    with world.database.unit_of_work(write=True) as session:
        row = WebhookDelivery(
            webhook_id=webhook_id,
            account_id=world.alice,
            event_id="e",
            include="alert",
            payload={},
            status=status,
            give_up_at=made + timedelta(days=1),
            created_at=made,
            updated_at=made,
        )
        session.add(row)
        session.flush()
        return row.id


def _mail(world: World, status: str, age: timedelta) -> str:
    made = utcnow() - age
    with world.database.unit_of_work(write=True) as session:
        row = OutboxMail(
            to_address="alice@example.com",
            subject="s",
            text_body="t",
            html_body="h",
            status=status,
            give_up_at=made + timedelta(days=1),
            created_at=made,
        )
        session.add(row)
        session.flush()
        return row.id


def test_finished_deliveries_and_sent_mail_go_after_their_retention(world: World) -> None:
    hook = world.webhook(world.alice, "https://127.0.0.1:9/in", ["alert"]).id
    day = timedelta(days=1)
    old, recent = DELIVERY_RETENTION + day, DELIVERY_RETENTION - day
    gone = {_delivery(world, hook, "succeeded", old), _delivery(world, hook, "failed", old)}
    kept = {
        _delivery(world, hook, "succeeded", recent),
        _delivery(world, hook, "pending", old),
        _delivery(world, hook, "retrying", old),
    }
    mail_gone = {_mail(world, "sent", MAIL_RETENTION + day), _mail(world, "failed", old)}
    mail_kept = {_mail(world, "sent", MAIL_RETENTION - day), _mail(world, "retrying", old)}

    counts = purge_expired(world.database, kinds=FINISHED)

    assert counts == {"finished webhook deliveries": 2, "sent mail": 2, "unsent link mail": 0}
    with world.database.unit_of_work(write=False) as session:
        deliveries = set(session.scalars(select(WebhookDelivery.id)))
        mails = set(session.scalars(select(OutboxMail.id)))
    assert deliveries == kept
    assert mails == mail_kept
    assert not (gone | mail_gone) & (deliveries | mails)
