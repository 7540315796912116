"""Security events: one table, written through :func:`record_event` only.

Actions are tags of the form ``noun[:noun]:verb``, e.g. ``account:create``,
``token:api-key:regenerate``, ``auth:failure``. Events never hold a secret: a token appears at most
as its id.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, String, insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from ostiary.clock import utcnow
from ostiary.db import Base, new_id, table_of
from ostiary.errors import Audit


class Event(Base):
    """One recorded security event."""

    __tablename__ = "events"
    # One index, for an account's activity in time order. Every issued token writes an event,
    # and each index is a page more in that commit (docs/architecture.md).
    __table_args__ = (Index("ix_events_actor_id_created_at", "actor_id", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[str | None] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(80))
    target_type: Mapped[str | None] = mapped_column(String(40))
    target_id: Mapped[str | None] = mapped_column(String(64))
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    request_id: Mapped[str | None] = mapped_column(String(36))
    details: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who asked, from where: what every event records about its request."""

    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None


SYSTEM = RequestContext()


INSERT_EVENT = insert(table_of(Event))


def event_row(
    context: RequestContext,
    action: str,
    *,
    actor_id: str | None,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, object] | None = None,
) -> dict[str, Any]:
    """Every column of a new event, for :data:`INSERT_EVENT`."""
    return {
        "id": new_id(),
        "created_at": utcnow(),
        "action": action,
        "actor_id": actor_id,
        "target_type": target_type,
        "target_id": target_id,
        "ip": context.ip,
        "user_agent": (context.user_agent or "")[:400] or None,
        "request_id": context.request_id,
        "details": details or {},
    }


def record_event(
    session: Session,
    context: RequestContext,
    action: str,
    *,
    actor_id: str | None,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, object] | None = None,
) -> None:
    """Write a security event in the session's transaction.

    A Core INSERT rather than an ORM object: every token issued records one, and the unit of
    work's bookkeeping cost more than the insert. Events reference nothing by foreign key, so
    the row may go in before the session flushes the objects it mentions.
    """
    row = event_row(
        context,
        action,
        actor_id=actor_id,
        target_type=target_type,
        target_id=target_id,
        details=details,
    )
    session.connection().execute(INSERT_EVENT, row)


def record_audit(session: Session, context: RequestContext, audit: Audit) -> None:
    """Record an :class:`Audit` carried by an error."""
    record_event(
        session,
        context,
        audit.action,
        actor_id=audit.actor_id,
        target_type=audit.target_type,
        target_id=audit.target_id,
        details=audit.details,
    )
