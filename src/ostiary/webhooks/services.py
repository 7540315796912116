"""Creating, changing and deleting webhooks (services take the request's
:class:`~ostiary.unit.Unit` and never commit), and enqueuing the deliveries of new events."""

from __future__ import annotations

import secrets as random_secrets
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ostiary.accounts.models import Account
from ostiary.activity.records import LoggedEvent, SealedEventsSubscriber
from ostiary.activity.rules import as_seen_by
from ostiary.clock import utcnow
from ostiary.db import new_id
from ostiary.unit import Unit
from ostiary.webhooks.errors import WebhookLimitReached
from ostiary.webhooks.models import Webhook, WebhookDelivery
from ostiary.webhooks.payloads import envelope
from ostiary.webhooks.queries import count_webhooks
from ostiary.webhooks.records import PENDING, CreatedWebhook
from ostiary.webhooks.rules import (
    checked_include,
    checked_level,
    checked_secret,
    checked_url,
    include_for,
)
from ostiary.webhooks.secrets import SecretBox

DEFAULT_RETRY_WINDOW = timedelta(hours=24)
_UNSET: object = object()


def create_webhook(
    unit: Unit,
    box: SecretBox,
    *,
    account_id: str,
    url: object,
    include: object,
    level: object = "notify",
    secret: object = None,
    authorization: object = None,
    limit: int = 10,
    allow_loopback: bool = False,
) -> CreatedWebhook:
    """Subscribe the account: a generated secret unless one is given; the secret is in the
    answer only. ``allow_loopback``: ``OSTIARY_WEBHOOK_ALLOW_LOOPBACK`` (``rules.checked_url``)."""
    checked = (
        checked_url(url, allow_loopback=allow_loopback),
        checked_include(include),
        checked_level(level),
    )
    plain_secret = (
        checked_secret(secret, "secret") if secret is not None else random_secrets.token_hex(32)
    )
    header = checked_secret(authorization, "authorization") if authorization is not None else None
    if count_webhooks(unit.session, account_id) >= limit:
        raise WebhookLimitReached(limit)
    webhook_id = new_id()
    now = unit.now()
    unit.session.add(
        Webhook(
            id=webhook_id,
            account_id=account_id,
            url=checked[0],
            include=checked[1],
            level=checked[2],
            secret_sealed=box.seal(plain_secret, bound_to=webhook_id),
            authorization_sealed=box.seal(header, bound_to=webhook_id) if header else None,
            created_at=now,
            updated_at=now,
        )
    )
    unit.session.flush()
    unit.record(
        "webhook:create",
        actor_id=account_id,
        target_type="webhook",
        target_id=webhook_id,
        details={"include": checked[1], "level": checked[2]},
    )
    return CreatedWebhook(id=webhook_id, secret=plain_secret)


def update_webhook(
    unit: Unit,
    box: SecretBox,
    webhook: Webhook,
    *,
    url: object = _UNSET,
    include: object = _UNSET,
    level: object = _UNSET,
    secret: object = _UNSET,
    authorization: object = _UNSET,
    allow_loopback: bool = False,
) -> Webhook:
    """Change what was given; a new secret signs the deliveries attempted from now on.
    ``authorization`` None removes the header; ``secret`` None is refused (every delivery is
    signed)."""
    if url is not _UNSET:
        webhook.url = checked_url(url, allow_loopback=allow_loopback)
    if include is not _UNSET:
        webhook.include = checked_include(include)
    if level is not _UNSET:
        webhook.level = checked_level(level)
    if secret is not _UNSET:
        webhook.secret_sealed = box.seal(checked_secret(secret, "secret"), bound_to=webhook.id)
    if authorization is not _UNSET:
        webhook.authorization_sealed = (
            None
            if authorization is None
            else box.seal(checked_secret(authorization, "authorization"), bound_to=webhook.id)
        )
    webhook.updated_at = unit.now()
    unit.record(
        "webhook:update",
        actor_id=webhook.account_id,
        target_type="webhook",
        target_id=webhook.id,
        details={"include": list(webhook.include), "level": webhook.level},
    )
    return webhook


def delete_webhook(unit: Unit, webhook: Webhook) -> None:
    """Delete a webhook and its deliveries (pending ones are never sent)."""
    unit.session.delete(webhook)
    unit.session.flush()
    unit.record(
        "webhook:delete", actor_id=webhook.account_id, target_type="webhook", target_id=webhook.id
    )


def deliveries_enqueuer(
    retry_window: timedelta = DEFAULT_RETRY_WINDOW,
) -> SealedEventsSubscriber:
    """:func:`enqueue_deliveries` with a retry window (``OSTIARY_WEBHOOK_RETRY_SECONDS``), as a
    ``SealedEventsSubscriber``."""

    def subscriber(session: Session, events: Sequence[LoggedEvent]) -> None:
        enqueue_deliveries(session, events, retry_window=retry_window)

    return subscriber


def _recipients(event: LoggedEvent) -> list[str]:
    """The accounts told of an event: its actor, and the account it was done to."""
    told = [event.actor_id] if event.actor_id is not None else []
    if event.subject_id is not None and event.subject_id != event.actor_id:
        told.append(event.subject_id)
    return told


def enqueue_deliveries(
    session: Session,
    events: Sequence[LoggedEvent],
    *,
    retry_window: timedelta = DEFAULT_RETRY_WINDOW,
) -> int:
    """A ``SealedEventsSubscriber``: one pending delivery per event and per webhook whose
    ``include`` takes it, of the event's actor and of the account it was done to (a failed
    sign-in against it), written in the sealing transaction; how many.

    The account an event was done to gets it as its activity log shows it
    (``activity.rules.as_seen_by``): without another actor's address, agent, request id,
    credential or email.
    """
    accounts = {account for event in events for account in _recipients(event)}
    if not accounts:
        return 0
    hooks: dict[str, list[Webhook]] = {}
    for webhook in session.scalars(select(Webhook).where(Webhook.account_id.in_(accounts))):
        hooks.setdefault(webhook.account_id, []).append(webhook)
    if not hooks:
        return 0
    emails = dict(
        session.execute(select(Account.id, Account.email).where(Account.id.in_(hooks))).all()
    )
    now = utcnow()
    made = 0
    for event in events:
        for account_id in _recipients(event):
            seen = as_seen_by(event, account_id)
            actor_email = emails.get(account_id) if event.actor_id == account_id else None
            for webhook in hooks.get(account_id, ()):
                include = include_for(event.action, webhook.include)
                if include is None:
                    continue
                session.add(
                    WebhookDelivery(
                        webhook_id=webhook.id,
                        account_id=webhook.account_id,
                        event_id=event.id,
                        include=include,
                        payload=envelope(seen, include, actor_email, now),
                        status=PENDING,
                        next_attempt_at=now,
                        give_up_at=now + retry_window,
                        created_at=now,
                        updated_at=now,
                    )
                )
                made += 1
    session.flush()
    return made
