"""Changes to the activity log: sealing new events into the hash chain, and pruning old ones.

Both are jobs (``app.sealing_jobs`` seals every ``OSTIARY_USAGE_FLUSH_SECONDS`` and once more
at a graceful stop; ``periodic.default_jobs`` prunes every minute). On PostgreSQL a
transaction-scoped advisory lock lets one sealer or pruner at a time work on the chain, across
workers and nodes; on SQLite the writer lock (``BEGIN IMMEDIATE``) serialises them already.

Every issued token writes an event, so the sealer must not hold the writer lock long: a batch is
read and its links computed in a read transaction (:func:`plan_batch`), then written in a short
write transaction (:func:`write_batch`) that re-checks the head under the lock and sets every
``seq``/``chain_hash`` with one executemany UPDATE by id. A sealer that finds the head moved
(another sealed first) leaves the rest of the run to that one.

Both jobs refuse a chain whose record (``event_chain``) does not carry its MAC: someone rewrote
its head or anchor in the database. The sealer leaves alone an unsealed event older than
:data:`GRACE` (the server's own are sealed within seconds): it was inserted outside the server,
and ``audit verify`` reports it instead of the sealer vouching for it.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import bindparam, delete, select, text, update
from sqlalchemy.orm import Session

from ostiary.activity.chain import canonical_fields, chain_mac, link_bytes, links
from ostiary.activity.queries import chain_is_authentic, chain_of, logged_event, unsealed
from ostiary.activity.records import LoggedEvent, SealedEventsSubscriber
from ostiary.clock import utcnow
from ostiary.db import Database, table_of
from ostiary.events import CHAIN_ID, GENESIS, Event, EventChain

logger = logging.getLogger("ostiary.activity")

# Small batches keep each sealing write transaction (and the writer lock) short; each batch
# also costs about 4 ms of its own (two transactions, the chain's record, the subscribers'
# queries). Sealing real token events took 152 us of CPU each in batches of 100, 115 in
# batches of 250 and 84 in batches of 500; on the token path, 250 against 100 gave 6% more
# tokens a second at the same p99, and 500 a worse p99 (docs/architecture.md).
BATCH_SIZE = 250
# A run goes on while it finds batches full, for at most this long: what a live server recorded
# since the last run (tens of thousands of events at thousands of tokens a second) is sealed in
# one run, and a backlog of millions (the first run after migration 0015) is worked off over
# several. A cap on batches instead (40, 10,000 events) let a server issuing 5,000 tokens a
# second fall further behind every run until its events aged past GRACE and were never sealed
# (docs/architecture.md, "The sealer keeps up").
RUN_SECONDS = 30.0
# The pruner's budget a run (it runs every minute): 5 s of batches delete about 300,000 events a
# minute, more than a busy server records, while a deletion backlog (a retention shortened)
# never holds the writer for long.
PRUNE_RUN_SECONDS = 5.0
# The server seals its events within seconds of their commit; one older than this and still
# unsealed was inserted outside the server (or its server died and stayed down that long).
GRACE = timedelta(minutes=10)
# pg_advisory_xact_lock's key for the events' chain ("ostiary-events" as a number).
CHAIN_LOCK = 0x6F73_7469_6172_7931

_EVENTS = table_of(Event)
_SEAL = (
    update(_EVENTS)
    .where(_EVENTS.c.id == bindparam("b_id"), _EVENTS.c.seq.is_(None))
    .values(seq=bindparam("b_seq"), chain_hash=bindparam("b_hash"))
)


@dataclass(frozen=True, slots=True)
class SealPlan:
    """A batch's links, computed from the head ``(head_seq, head_hash)`` seen when planned."""

    head_seq: int
    head_hash: str
    events: list[LoggedEvent]


def lock_chain(session: Session) -> None:
    """Hold the chain for this transaction: an advisory lock on PostgreSQL (SQLite's writer
    lock is held already by a write transaction)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": CHAIN_LOCK})


def sign_chain(key: bytes, chain: EventChain) -> None:
    """Set the chain record's MAC over its head and anchor, after changing them."""
    chain.mac = chain_mac(
        key,
        head_seq=chain.head_seq,
        head_hash=chain.head_hash,
        anchor_seq=chain.anchor_seq,
        anchor_hash=chain.anchor_hash,
        anchor_created_at=chain.anchor_created_at,
    )
    chain.updated_at = utcnow()


def _refuse(what: str) -> None:
    logger.error(
        "the activity log's chain record does not verify (its head or anchor was rewritten in "
        "the database): %s nothing; run `ostiary audit verify`",
        what,
    )


def _at_genesis(chain: EventChain | None) -> bool:
    return chain is None or (chain.head_seq == 0 and chain.anchor_seq == 0)


def plan_batch(
    session: Session, key: bytes, *, limit: int = BATCH_SIZE, now: datetime | None = None
) -> SealPlan | None:
    """The links of up to ``limit`` of the oldest unsealed events within :data:`GRACE`, after
    the current head; None (logged) when the chain's record is not authentic.

    Only reads: run it in a read transaction, then :func:`write_batch` it.
    """
    chain = session.scalar(select(EventChain).where(EventChain.id == CHAIN_ID))
    if chain is None:
        seq, previous = 0, GENESIS
    elif not chain_is_authentic(key, chain):
        _refuse("sealing")
        return None
    else:
        seq, previous = chain.head_seq, chain.head_hash
    plan = SealPlan(head_seq=seq, head_hash=previous, events=[])
    # The first run seals all that waits (the events recorded before migration 0015, whatever
    # their age); after that, only what the server could have recorded within the grace.
    since = None if _at_genesis(chain) else (now or datetime.now(UTC)) - GRACE
    for row in unsealed(session, limit, since=since):
        seq += 1
        fields = dict(row, seq=seq, details=dict(row["details"] or {}))
        previous = link_bytes(key, previous, canonical_fields(fields))
        plan.events.append(LoggedEvent(**fields, chain_hash=previous))
    return plan


def write_batch(
    session: Session,
    key: bytes,
    plan: SealPlan,
    subscribers: Sequence[SealedEventsSubscriber] = (),
) -> list[LoggedEvent] | None:
    """Write a planned batch in the session's (write) transaction: the sealed events, or None
    when the head moved since the plan (another sealer went first), or ``[]`` when the chain's
    record is not authentic (logged). The subscribers are told of the sealed events in this
    transaction."""
    lock_chain(session)
    chain = chain_of(session, for_update=True)
    if not chain_is_authentic(key, chain):
        _refuse("sealing")
        return []
    if (chain.head_seq, chain.head_hash) != (plan.head_seq, plan.head_hash):
        return None
    if not plan.events:
        return []
    rows = [{"b_id": e.id, "b_seq": e.seq, "b_hash": e.chain_hash} for e in plan.events]
    result = session.connection().execute(_SEAL, rows)
    dialect = session.get_bind().dialect
    if dialect.supports_sane_multi_rowcount and result.rowcount != len(rows):
        # An event planned was sealed or deleted meanwhile: nothing of this batch is kept.
        raise RuntimeError("the events of a sealing batch changed while it was planned")
    last = plan.events[-1]
    chain.head_seq, chain.head_hash = last.seq, last.chain_hash or ""
    sign_chain(key, chain)
    session.flush()
    for subscriber in subscribers:
        subscriber(session, plan.events)
    return plan.events


def seal_batch(
    session: Session,
    key: bytes,
    subscribers: Sequence[SealedEventsSubscriber] = (),
    *,
    limit: int = BATCH_SIZE,
) -> list[LoggedEvent]:
    """Plan and write a batch in the session's one (write) transaction: the sealed events."""
    lock_chain(session)
    plan = plan_batch(session, key, limit=limit)
    if plan is None:
        return []
    return write_batch(session, key, plan, subscribers) or []


def seal_events(
    database: Database,
    key: bytes,
    subscribers: Sequence[SealedEventsSubscriber] = (),
    *,
    batch_size: int = BATCH_SIZE,
    run_seconds: float = RUN_SECONDS,
    now: datetime | None = None,
    stop: threading.Event | None = None,
) -> int:
    """The sealing job: seal what is waiting, each batch planned in a read transaction and
    written in a short write transaction of its own, for up to ``run_seconds`` and until
    ``stop`` is set (the server is stopping); how many were sealed. ``now`` (the current time
    by default) is when :data:`GRACE` is counted back from."""
    total = 0
    ends = time.monotonic() + run_seconds
    while time.monotonic() < ends and not (stop is not None and stop.is_set()):
        with database.unit_of_work(write=False) as session:
            plan = plan_batch(session, key, limit=batch_size, now=now)
        if plan is None or not plan.events:
            break
        with database.unit_of_work(write=True) as session:
            sealed = write_batch(session, key, plan, subscribers)
        if sealed is None:
            # Another sealer (a worker or node) went first and goes on with what is left:
            # planning again here would mostly plan the same events twice over.
            break
        total += len(sealed)
        if len(sealed) < batch_size:
            break
    return total


def prune_batch(session: Session, key: bytes, cutoff: datetime, *, limit: int = BATCH_SIZE) -> int:
    """Delete up to ``limit`` of the oldest sealed events created before ``cutoff``; the last
    one deleted becomes the chain's anchor, from which verification starts.

    Each is verified first (its link from the anchor): an event edited (its ``created_at``
    aged, say) is kept, with what follows, for ``audit verify`` to report, so the anchor's time
    is always one the chain vouches for.
    """
    lock_chain(session)
    chain = chain_of(session, for_update=True)
    if not chain_is_authentic(key, chain):
        _refuse("pruning")
        return 0
    query = select(Event).where(Event.seq > chain.anchor_seq).order_by(Event.seq).limit(limit)
    previous, expected = chain.anchor_hash, chain.anchor_seq + 1
    last: LoggedEvent | None = None
    for row in session.scalars(query):
        # The chain is pruned from its start only: the first young event ends the batch.
        if row.created_at >= cutoff or row.chain_hash is None or row.seq is None:
            break
        event = logged_event(row)
        if row.seq != expected or not links(key, previous, event, row.chain_hash):
            logger.error(
                "the activity log's event at seq %d does not verify: not pruned; run "
                "`ostiary audit verify`",
                expected,
            )
            break
        last, previous, expected = event, row.chain_hash, expected + 1
    if last is None:
        return 0
    deleted = session.execute(
        delete(Event).where(Event.seq > chain.anchor_seq, Event.seq <= last.seq)
    )
    chain.anchor_seq, chain.anchor_hash = last.seq, previous
    chain.anchor_created_at = last.created_at
    sign_chain(key, chain)
    session.flush()
    return int(getattr(deleted, "rowcount", 0) or 0)


def prune_events(
    database: Database,
    retention_days: int,
    *,
    key: bytes,
    now: datetime | None = None,
    batch_size: int = BATCH_SIZE,
    run_seconds: float = PRUNE_RUN_SECONDS,
) -> int:
    """The retention job: delete sealed events older than ``retention_days``, batch after batch
    for up to ``run_seconds``; how many."""
    cutoff = (now or utcnow()) - timedelta(days=retention_days)
    total = 0
    ends = time.monotonic() + run_seconds
    while time.monotonic() < ends:
        with database.unit_of_work(write=True) as session:
            count = prune_batch(session, key, cutoff, limit=batch_size)
        total += count
        if count < batch_size:
            break
    if total:
        logger.info("pruned %d events older than %d days", total, retention_days)
    return total
