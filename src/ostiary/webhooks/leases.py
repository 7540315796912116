"""Claiming due work (webhook deliveries, outbox mail) so that no two senders, in this process
or another node, attempt the same row at once.

A claim is one short write transaction (after a read that finds whether anything is due): choose
up to ``limit`` due rows whose lease is free, mark them with a fresh claim id and ``locked_until
= now + lease``, commit. On PostgreSQL the choice is ``FOR UPDATE SKIP LOCKED``, so concurrent
claimers take disjoint rows without waiting for each other; SQLite's writers are serialized
(``BEGIN IMMEDIATE``), which gives the same. A sender that dies mid-batch leaves its rows locked
until the lease runs out, then another takes them: a delivery may then be sent twice, never
concurrently (receivers dedupe on the delivery id). Outcomes are written only ``WHERE claim =
<its claim>``, so a sender whose lease was taken over cannot overwrite the newer attempt.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import or_, select, update

from ostiary.db import Database, new_id

DUE_STATUSES = ("pending", "retrying")


# A mapped class of work with the columns id, status, next_attempt_at, claim and locked_until
# (``WebhookDelivery``, ``OutboxMail``); a Protocol cannot state a mapped class's columns.
Leased = Any


def claim_due(
    database: Database, model: Leased, *, now: datetime, lease: timedelta, limit: int
) -> tuple[str, list[str]]:
    """Claim up to ``limit`` due rows of ``model``: the claim id and the rows' ids."""
    claim = new_id()
    due = (
        select(model.id)
        .where(
            model.status.in_(DUE_STATUSES),
            model.next_attempt_at <= now,
            or_(model.locked_until.is_(None), model.locked_until <= now),
        )
        .order_by(model.next_attempt_at)
        .limit(limit)
    )
    # Looked for first in a read transaction: most runs find nothing, and on SQLite a write
    # transaction every few seconds in every worker would queue behind the requests' writes.
    with database.unit_of_work(write=False) as session:
        if session.scalar(due.limit(1)) is None:
            return claim, []
    if not database.is_sqlite:
        due = due.with_for_update(skip_locked=True)
    with database.unit_of_work(write=True) as session:
        ids = list(session.scalars(due))
        if ids:
            session.execute(
                update(model).where(model.id.in_(ids)).values(claim=claim, locked_until=now + lease)
            )
    return claim, ids
