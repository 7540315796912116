"""Reads of the activity log: an account's events (filtered, in time order), the unsealed
events, the sealed ones in chain order, and the chain's anchor and head (and whether its record
is authentic)."""

from __future__ import annotations

import hmac
import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import RowMapping, Select, func, or_, select
from sqlalchemy.orm import Session

from ostiary.activity.chain import CHAINED_FIELDS, chain_mac
from ostiary.activity.errors import AppNotFound
from ostiary.activity.records import LoggedEvent
from ostiary.activity.rules import EventFilter, escape_like
from ostiary.apps.queries import find_app
from ostiary.apps.records import AppAccess
from ostiary.db import table_of
from ostiary.errors import NotFound
from ostiary.events import CHAIN_ID, GENESIS, Event, EventChain


def logged_event(row: Event) -> LoggedEvent:
    """An event row as its readers get it (``seq`` 0 while it is not sealed yet)."""
    return LoggedEvent(
        id=row.id,
        seq=row.seq or 0,
        action=row.action,
        created_at=row.created_at,
        actor_id=row.actor_id,
        authorization_id=row.authorization_id,
        target_type=row.target_type,
        target_id=row.target_id,
        ip=row.ip,
        user_agent=row.user_agent,
        request_id=row.request_id,
        outcome=row.outcome,
        details=dict(row.details or {}),
        subject_id=row.subject_id,
        token=row.token,
        client_id=row.client_id,
        app_id=row.app_id,
        chain_hash=row.chain_hash,
    )


def events_of(account_id: str, wanted: EventFilter, app_id: str | None = None) -> Select[Event]:
    """What an account did (actor) and what was done to it (subject), filtered; unordered.

    ``app_id`` is the ``app`` filter resolved to an id by the caller.
    """
    query = select(Event).where(or_(Event.actor_id == account_id, Event.subject_id == account_id))
    prefix = wanted.action_prefix
    if prefix is not None:
        if prefix:
            query = query.where(Event.action.like(escape_like(prefix), escape="\\"))
    elif wanted.action is not None:
        query = query.where(Event.action == wanted.action)
    if wanted.authorization_id is not None:
        query = query.where(Event.authorization_id == wanted.authorization_id)
    if app_id is not None:
        query = query.where(Event.app_id == app_id)
    if wanted.since is not None:
        query = query.where(Event.created_at >= wanted.since)
    if wanted.until is not None:
        query = query.where(Event.created_at <= wanted.until)
    return query


_EVENTS = table_of(Event)
# The columns the chain hashes but ``seq``, which the sealer gives: read as plain rows, since
# loading ORM objects was most of the sealing's cost (docs/architecture.md).
_UNSEALED = select(*(_EVENTS.c[name] for name in CHAINED_FIELDS if name != "seq"))


def unsealed(session: Session, limit: int, since: datetime | None = None) -> Sequence[RowMapping]:
    """The oldest events not sealed yet, in (created_at, id) order, as rows of the chained
    columns but ``seq``; only those created at or after ``since`` when given (the sealer's
    grace period)."""
    query = _UNSEALED.where(_EVENTS.c.seq.is_(None))
    if since is not None:
        query = query.where(_EVENTS.c.created_at >= since)
    ordered = query.order_by(_EVENTS.c.created_at, _EVENTS.c.id).limit(limit)
    return session.execute(ordered).mappings().all()


def unsealed_count(session: Session) -> int:
    """How many events are not sealed yet (not tamper-evident until they are)."""
    return int(session.scalar(select(func.count()).where(Event.seq.is_(None))) or 0)


def oldest_unsealed(session: Session, before: datetime) -> Event | None:
    """The oldest event not sealed yet and created before ``before``, if any."""
    query = (
        select(Event)
        .where(Event.seq.is_(None), Event.created_at < before)
        .order_by(Event.created_at, Event.id)
        .limit(1)
    )
    return session.scalar(query)


def sealed_after(session: Session, seq: int, limit: int) -> Sequence[Event]:
    """Sealed events after ``seq``, in chain order."""
    query = select(Event).where(Event.seq > seq).order_by(Event.seq).limit(limit)
    return session.scalars(query).all()


def chain_is_authentic(key: bytes, chain: EventChain) -> bool:
    """Whether the chain's record carries its MAC (constant time). A record without one is
    taken only at the genesis (nothing sealed, nothing pruned: a new database)."""
    if chain.mac is None:
        return chain.head_seq == 0 and chain.anchor_seq == 0 and chain.anchor_created_at is None
    expected = chain_mac(
        key,
        head_seq=chain.head_seq,
        head_hash=chain.head_hash,
        anchor_seq=chain.anchor_seq,
        anchor_hash=chain.anchor_hash,
        anchor_created_at=chain.anchor_created_at,
    )
    return hmac.compare_digest(expected, chain.mac)


def chain_of(session: Session, *, for_update: bool = False) -> EventChain:
    """The chain's anchor and head (created, at the genesis, if missing)."""
    query = select(EventChain).where(EventChain.id == CHAIN_ID)
    if for_update:
        query = query.with_for_update()
    chain = session.scalar(query)
    if chain is None:
        chain = EventChain(
            id=CHAIN_ID, anchor_seq=0, anchor_hash=GENESIS, head_seq=0, head_hash=GENESIS
        )
        session.add(chain)
        session.flush()
    return chain


def is_uuid(value: str) -> bool:
    """Whether ``value`` is written as a UUID (an id rather than a name)."""
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def resolve_app(session: Session, account_id: str, identity: str | None) -> str | None:
    """The ``app`` filter as an app id: an id as given (the app may be gone, its events stay),
    a name resolved among the apps the account can see, else :class:`AppNotFound`."""
    if identity is None or identity == "":
        return None
    if is_uuid(identity):
        return identity.lower()
    try:
        app = find_app(session, AppAccess(account_id, None), identity)
    except NotFound:
        raise AppNotFound() from None
    return app.id
