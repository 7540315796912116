"""Sending due deliveries: claim a batch (``webhooks.leases``), POST each outside any
transaction, record each outcome in a short transaction of its own.

A delivery is POSTed with httpx (synchronous, no redirect followed, no proxy taken from the
environment) by a few threads at once, each attempt on a client of its own
(``transport.attempt_client``): the attempt ends by ``OSTIARY_WEBHOOK_TIMEOUT`` in all, however
slowly the receiver answers, and never connects to this machine's loopback or link-local
addresses (unless ``OSTIARY_WEBHOOK_ALLOW_LOOPBACK``). A 2xx answer succeeds; anything else
(a redirect, an error status, a refused connection, a timeout, a forbidden address) is retried
after an exponential, jittered delay (``rules.retry_delay``) until the delivery's
``give_up_at`` (``OSTIARY_WEBHOOK_RETRY_SECONDS`` after it was enqueued), then marked
``failed``. Each attempt is counted in ``metrics.WEBHOOK_DELIVERIES``. Log lines
name the webhook and delivery ids, never the URL (it may hold a token of the receiver's) or a
secret.
"""

from __future__ import annotations

import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update

from ostiary.clock import utcnow
from ostiary.db import Database, new_id
from ostiary.metrics import WEBHOOK_DELIVERIES
from ostiary.webhooks.leases import claim_due
from ostiary.webhooks.models import Webhook, WebhookDelivery
from ostiary.webhooks.payloads import body_of, headers_of
from ostiary.webhooks.records import FAILED, RETRYING, SUCCEEDED, AttemptOutcome
from ostiary.webhooks.rules import retry_delay
from ostiary.webhooks.secrets import SecretBox, UnreadableSecret

logger = logging.getLogger("ostiary.webhooks")

BATCH = 8
SENDERS = 4


@dataclass(frozen=True, slots=True)
class Claimed:
    """A claimed delivery and what sending it needs."""

    id: str
    webhook_id: str
    event_id: str
    include: str
    payload: dict[str, object]
    num_attempts: int
    give_up_at: datetime
    url: str
    secret_sealed: str
    authorization_sealed: str | None


@dataclass(frozen=True, slots=True)
class DispatchRun:
    """What one run did: deliveries that succeeded, failed (to be retried), were abandoned."""

    delivered: int = 0
    failed: int = 0
    abandoned: int = 0


def lease_for(timeout: float) -> timedelta:
    """How long a claim holds: every round of the batch taking its whole deadline twice over
    (the name lookup is outside it), with a margin."""
    rounds = -(-BATCH // SENDERS)
    return timedelta(seconds=rounds * 2 * timeout + 60)


def _claimed(database: Database, ids: list[str]) -> list[Claimed]:
    with database.unit_of_work(write=False) as session:
        rows = session.execute(
            select(WebhookDelivery, Webhook)
            .join(Webhook, Webhook.id == WebhookDelivery.webhook_id)
            .where(WebhookDelivery.id.in_(ids))
        ).all()
        return [
            Claimed(
                id=delivery.id,
                webhook_id=webhook.id,
                event_id=delivery.event_id,
                include=delivery.include,
                payload=dict(delivery.payload),
                num_attempts=delivery.num_attempts,
                give_up_at=delivery.give_up_at,
                url=webhook.url,
                secret_sealed=webhook.secret_sealed,
                authorization_sealed=webhook.authorization_sealed,
            )
            for delivery, webhook in rows
        ]


def attempt(
    box: SecretBox,
    claimed: Claimed,
    attempt_id: str,
    now: datetime,
    *,
    timeout: float,
    allow_loopback: bool = False,
) -> AttemptOutcome:
    """POST one delivery once, within ``timeout`` seconds in all; its outcome (never raises
    for the receiver's failures)."""
    try:
        secret = box.open(claimed.secret_sealed, bound_to=claimed.webhook_id)
        authorization = (
            box.open(claimed.authorization_sealed, bound_to=claimed.webhook_id)
            if claimed.authorization_sealed
            else None
        )
    except UnreadableSecret:
        return AttemptOutcome(code=None, error_class="UnreadableSecret")
    body = body_of(
        claimed.payload,
        attempt_id=attempt_id,
        delivery_id=claimed.id,
        webhook_id=claimed.webhook_id,
        event_id=claimed.event_id,
        include=claimed.include,
    )
    headers = headers_of(
        body, secret=secret, authorization=authorization, delivery_id=claimed.id, sent_at=now
    )
    # Imported here: a worker that delivers nothing never loads httpx (and the rich and
    # pygments its command line brings: 6 MB a worker).
    from ostiary.webhooks.transport import attempt_client

    try:
        # Streamed and closed unread: a receiver's answer body is none of our business.
        with (
            attempt_client(timeout, allow_loopback=allow_loopback) as client,
            client.stream("POST", claimed.url, content=body, headers=headers) as response,
        ):
            return AttemptOutcome(code=response.status_code, error_class=None)
    except Exception as error:
        # httpx's transport errors, and anything else (an address its parser refuses): the
        # class is recorded and the delivery retried, so one bad row never stops the batch.
        return AttemptOutcome(code=None, error_class=type(error).__name__[:80])


def _record(
    database: Database,
    claim: str,
    claimed: Claimed,
    attempt_id: str,
    outcome: AttemptOutcome,
    now: datetime,
) -> str:
    attempts = claimed.num_attempts + 1
    values: dict[str, object] = {
        "num_attempts": attempts,
        "claim": None,
        "locked_until": None,
        "last_attempt_id": attempt_id,
        "last_attempt_status": SUCCEEDED if outcome.succeeded else FAILED,
        "last_attempt_code": outcome.code,
        "last_attempt_error": outcome.error_class,
        "last_attempt_at": now,
        "updated_at": now,
    }
    if outcome.succeeded:
        values |= {"status": SUCCEEDED, "next_attempt_at": None}
        result = "delivered"
    else:
        retry_at = now + retry_delay(attempts)
        if retry_at > claimed.give_up_at:
            values |= {"status": FAILED, "next_attempt_at": None}
            result = "abandoned"
        else:
            values |= {"status": RETRYING, "next_attempt_at": retry_at}
            result = "failed"
        logger.info(
            "webhook %s delivery %s attempt %d %s (%s)",
            claimed.webhook_id,
            claimed.id,
            attempts,
            "abandoned" if result == "abandoned" else "failed, will retry",
            outcome.code if outcome.code is not None else outcome.error_class,
        )
    with database.unit_of_work(write=True) as session:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == claimed.id, WebhookDelivery.claim == claim)
            .values(**values)
        )
    WEBHOOK_DELIVERIES.labels(result).inc()
    return result


def deliver_due(
    database: Database,
    box: SecretBox,
    *,
    timeout: float = 5.0,
    allow_loopback: bool = False,
    now: datetime | None = None,
) -> DispatchRun:
    """Claim one batch of due deliveries and attempt each (``attempt``); what came of them."""
    now = now or utcnow()
    claim, ids = claim_due(
        database, WebhookDelivery, now=now, lease=lease_for(timeout), limit=BATCH
    )
    if not ids:
        return DispatchRun()
    batch = _claimed(database, ids)
    attempt_ids = [new_id() for _ in batch]
    with ThreadPoolExecutor(max_workers=min(SENDERS, len(batch))) as pool:
        outcomes = list(
            pool.map(
                lambda pair: attempt(
                    box, pair[0], pair[1], now, timeout=timeout, allow_loopback=allow_loopback
                ),
                zip(batch, attempt_ids, strict=True),
            )
        )
    results = [
        _record(database, claim, claimed, attempt_id, outcome, now)
        for claimed, attempt_id, outcome in zip(batch, attempt_ids, outcomes, strict=True)
    ]
    return DispatchRun(
        delivered=results.count("delivered"),
        failed=results.count("failed"),
        abandoned=results.count("abandoned"),
    )
