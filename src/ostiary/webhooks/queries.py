"""Finding an account's webhooks and deliveries: never another account's."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ostiary.webhooks.errors import DeliveryNotFound, WebhookNotFound
from ostiary.webhooks.models import Webhook, WebhookDelivery


def webhooks_of(account_id: str) -> Select[Webhook]:
    """The account's webhooks, as a query for pagination."""
    return select(Webhook).where(Webhook.account_id == account_id)


def count_webhooks(session: Session, account_id: str) -> int:
    """How many webhooks the account has."""
    counted = session.scalar(
        select(func.count()).select_from(Webhook).where(Webhook.account_id == account_id)
    )
    return int(counted or 0)


def find_webhook(session: Session, account_id: str, webhook_id: str) -> Webhook:
    """One of the account's webhooks; :class:`WebhookNotFound` for anyone else's."""
    webhook = session.scalar(
        select(Webhook).where(Webhook.id == webhook_id, Webhook.account_id == account_id)
    )
    if webhook is None:
        raise WebhookNotFound()
    return webhook


def deliveries_of(account_id: str) -> Select[WebhookDelivery]:
    """The account's deliveries, as a query for pagination."""
    return select(WebhookDelivery).where(WebhookDelivery.account_id == account_id)


def find_delivery(session: Session, account_id: str, delivery_id: str) -> WebhookDelivery:
    """One of the account's deliveries; :class:`DeliveryNotFound` for anyone else's."""
    delivery = session.scalar(
        select(WebhookDelivery).where(
            WebhookDelivery.id == delivery_id, WebhookDelivery.account_id == account_id
        )
    )
    if delivery is None:
        raise DeliveryNotFound()
    return delivery
