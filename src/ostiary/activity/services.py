"""Changes to the activity log: sealing new events into the hash chain, and pruning old ones.

Both are jobs (``app.frequent_jobs`` seals every ``OSTIARY_USAGE_FLUSH_SECONDS`` and once more
at a graceful stop; ``periodic.default_jobs`` prunes every minute). Each batch is one short write
transaction of its own. On PostgreSQL a transaction-scoped advisory lock lets one sealer or
pruner at a time work on the chain, across workers and nodes; on SQLite the writer lock
(``BEGIN IMMEDIATE``) serialises them already.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from ostiary.activity.chain import link
from ostiary.activity.queries import chain_of, logged_event, unsealed
from ostiary.activity.records import LoggedEvent, SealedEventsSubscriber
from ostiary.clock import utcnow
from ostiary.db import Database
from ostiary.events import Event

logger = logging.getLogger("ostiary.activity")

BATCH_SIZE = 500
# At most this many batches a run: a backlog is worked off over several runs, never in one burst.
MAX_BATCHES = 20
# pg_advisory_xact_lock's key for the events' chain ("ostiary-events" as a number).
CHAIN_LOCK = 0x6F73_7469_6172_7931


def lock_chain(session: Session) -> None:
    """Hold the chain for this transaction: an advisory lock on PostgreSQL (SQLite's writer
    lock is held already by a write transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})


def seal_batch(
    session: Session,
    key: bytes,
    subscribers: Sequence[SealedEventsSubscriber] = (),
    *,
    limit: int = BATCH_SIZE,
) -> list[LoggedEvent]:
    """Seal up to ``limit`` of the oldest unsealed events, in the session's transaction.

    Each gets the next ``seq`` and ``chain_hash = HMAC(key, previous hash || canonical JSON)``;
    the subscribers are told of the sealed events in this same transaction.
    """
    lock_chain(session)
    chain = chain_of(session, for_update=True)
    rows = unsealed(session, limit)
    if not rows:
        return []
    seq, previous = chain.head_seq, chain.head_hash
    sealed: list[LoggedEvent] = []
    for row in rows:
        seq += 1
        event = dataclasses.replace(logged_event(row), seq=seq)
        previous = link(key, previous, event)
        row.seq, row.chain_hash = seq, previous
        sealed.append(dataclasses.replace(event, chain_hash=previous))
    chain.head_seq, chain.head_hash, chain.updated_at = seq, previous, utcnow()
    session.flush()
    for subscriber in subscribers:
        subscriber(session, sealed)
    return sealed


def seal_events(
    database: Database,
    key: bytes,
    subscribers: Sequence[SealedEventsSubscriber] = (),
    *,
    batch_size: int = BATCH_SIZE,
    max_batches: int = MAX_BATCHES,
) -> int:
    """The sealing job: seal what is waiting, a batch per transaction; how many were sealed."""
    total = 0
    for _ in range(max_batches):
        with database.unit_of_work(write=True) as session:
            count = len(seal_batch(session, key, subscribers, limit=batch_size))
        total += count
        if count < batch_size:
            break
    return total


def prune_batch(session: Session, cutoff: datetime, *, limit: int = BATCH_SIZE) -> int:
    """Delete up to ``limit`` of the oldest sealed events created before ``cutoff``; the last
    one deleted becomes the chain's anchor, from which verification starts."""
    lock_chain(session)
    chain = chain_of(session, for_update=True)
    query = (
        select(Event.seq, Event.chain_hash, Event.created_at)
        .where(Event.seq > chain.anchor_seq)
        .order_by(Event.seq)
        .limit(limit)
    )
    last: tuple[int, str] | None = None
    for seq, chain_hash, created_at in session.execute(query):
        # The chain is pruned from its start only: the first young event ends the batch.
        if created_at >= cutoff or chain_hash is None or seq is None:
            break
        last = (int(seq), str(chain_hash))
    if last is None:
        return 0
    deleted = session.execute(
        delete(Event).where(Event.seq > chain.anchor_seq, Event.seq <= last[0])
    )
    chain.anchor_seq, chain.anchor_hash, chain.updated_at = last[0], last[1], utcnow()
    session.flush()
    return int(getattr(deleted, "rowcount", 0) or 0)


def prune_events(
    database: Database,
    retention_days: int,
    *,
    now: datetime | None = None,
    batch_size: int = BATCH_SIZE,
    max_batches: int = MAX_BATCHES,
) -> int:
    """The retention job: delete sealed events older than ``retention_days``; how many."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    total = 0
    for _ in range(max_batches):
        with database.unit_of_work(write=True) as session:
            count = prune_batch(session, cutoff, limit=batch_size)
        total += count
        if count < batch_size:
            break
    if total:
        logger.info("pruned %d events older than %d days", total, retention_days)
    return total
