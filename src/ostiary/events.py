"""Security events: one table, written through :func:`record_event` only.

Actions are tags of the form ``noun[:noun]:verb``, e.g. ``account:create``,
``token:api-key:regenerate``, ``auth:failure``. Events never hold a secret: a token appears at most
as its id and its redacted listing form (``head**********tail``).

Besides what happened, an event records the credential the request was made with (its
authorization, the token redacted, the OAuth client), whether it succeeded, the app it concerns
and the account it was done to (``subject_id``) when that is not the actor: the activity log
(``ostiary.activity``) lists an account's events by actor or subject. ``seq`` and ``chain_hash``
stay NULL at insert; the activity log's sealing job fills them after commit (its hash chain).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, String, column, insert, select, table, text
from sqlalchemy.orm import Mapped, Session, mapped_column

from ostiary.clock import utcnow
from ostiary.db import Base, new_id, table_of
from ostiary.errors import Audit

SUCCESS = "success"
FAILURE = "failure"


class Event(Base):
    """One recorded security event."""

    __tablename__ = "events"
    # Every issued token writes an event, and each index is a page more in that commit
    # (docs/architecture.md): the indexes besides the actor's are partial. An insert touches
    # the subject's only when it names one (rare), and the unsealed events' (a few seconds'
    # worth of rows); ``seq``'s is written by the sealer.
    __table_args__ = (
        Index("ix_events_actor_id_created_at", "actor_id", "created_at"),
        Index(
            "ix_events_subject_id_created_at",
            "subject_id",
            "created_at",
            sqlite_where=text("subject_id IS NOT NULL"),
            postgresql_where=text("subject_id IS NOT NULL"),
        ),
        # The events waiting for the sealer: a few seconds' worth, so a small, hot index.
        Index(
            "ix_events_unsealed",
            "created_at",
            sqlite_where=text("seq IS NULL"),
            postgresql_where=text("seq IS NULL"),
        ),
        Index(
            "ix_events_seq",
            "seq",
            unique=True,
            sqlite_where=text("seq IS NOT NULL"),
            postgresql_where=text("seq IS NOT NULL"),
        ),
    )

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
    # The activity log (issue 14).
    subject_id: Mapped[str | None] = mapped_column(String(36))
    authorization_id: Mapped[str | None] = mapped_column(String(36))
    token: Mapped[str | None] = mapped_column(String(40))
    client_id: Mapped[str | None] = mapped_column(String(64))
    app_id: Mapped[str | None] = mapped_column(String(36))
    outcome: Mapped[str] = mapped_column(String(16), default=SUCCESS)
    seq: Mapped[int | None] = mapped_column(BigInteger)
    chain_hash: Mapped[str | None] = mapped_column(String(64))


@dataclass(frozen=True, slots=True)
class RequestContext:
    """Who asked, from where, with which credential: what every event records about its request.

    ``authorization_id``, ``token`` (redacted, never the secret) and ``client_id`` are known once
    the request is authenticated (``web.api.deps.authenticate_caller``).
    """

    ip: str | None = None
    user_agent: str | None = None
    request_id: str | None = None
    authorization_id: str | None = None
    token: str | None = None
    client_id: str | None = None


SYSTEM = RequestContext()


INSERT_EVENT = insert(table_of(Event))


def _app_of(target_type: str | None, target_id: str | None, details: dict[str, object]) -> Any:
    if target_type == "app":
        return target_id
    app_id = details.get("app_id")
    return app_id if isinstance(app_id, str) else None


def _subject_of(actor_id: str | None, details: dict[str, object]) -> str | None:
    # An event about another account (a collaborator added) is in that account's log too.
    other = details.get("account_id")
    return other if isinstance(other, str) and other != actor_id else None


def event_row(
    context: RequestContext,
    action: str,
    *,
    actor_id: str | None,
    target_type: str | None = None,
    target_id: str | None = None,
    details: dict[str, object] | None = None,
    outcome: str = SUCCESS,
    subject_id: str | None = None,
    app_id: str | None = None,
) -> dict[str, Any]:
    """Every column of a new event, for :data:`INSERT_EVENT` (``seq`` and ``chain_hash`` NULL:
    the activity log seals it after commit)."""
    details = details or {}
    client_id = context.client_id
    if client_id is None and isinstance(details.get("client_id"), str):
        client_id = details["client_id"]  # type: ignore[assignment]
    return {
        "id": new_id(),
        # To the microsecond, unlike other timestamps: the activity log is ordered and paged by
        # it, and a token issued every millisecond must not share one second's value.
        "created_at": datetime.now(UTC),
        "action": action,
        "actor_id": actor_id,
        "target_type": target_type,
        "target_id": target_id,
        "ip": context.ip,
        "user_agent": (context.user_agent or "")[:400] or None,
        "request_id": context.request_id,
        "details": details,
        "subject_id": subject_id or _subject_of(actor_id, details),
        "authorization_id": context.authorization_id,
        "token": context.token,
        "client_id": client_id,
        "app_id": app_id or _app_of(target_type, target_id, details),
        "outcome": outcome,
        "seq": None,
        "chain_hash": None,
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
    outcome: str = SUCCESS,
    subject_id: str | None = None,
    app_id: str | None = None,
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
        outcome=outcome,
        subject_id=subject_id,
        app_id=app_id,
    )
    session.connection().execute(INSERT_EVENT, row)


# The owner of a refused credential, read by name: this layer sits below the tokens package.
_AUTHORIZATIONS = table("authorizations", column("id"), column("account_id"))


def record_audit(session: Session, context: RequestContext, audit: Audit) -> None:
    """Record an :class:`Audit` carried by an error: a failure.

    A refused credential's event belongs to its owner's log too (a dead token tried is how a
    leak shows itself): its account is looked up here, off the hot path (a refusal).
    """
    subject_id = None
    if audit.target_type == "authorization" and audit.target_id and audit.actor_id is None:
        subject_id = session.execute(
            select(_AUTHORIZATIONS.c.account_id).where(_AUTHORIZATIONS.c.id == audit.target_id)
        ).scalar()
    record_event(
        session,
        context,
        audit.action,
        actor_id=audit.actor_id,
        target_type=audit.target_type,
        target_id=audit.target_id,
        details=audit.details,
        outcome=FAILURE,
        subject_id=subject_id,
    )


class EventChain(Base):
    """Where the events' hash chain starts and ends: one row (``id`` ``"events"``).

    ``anchor_seq``/``anchor_hash``/``anchor_created_at`` are the last event pruned by retention
    (0, :data:`GENESIS` and NULL before any), from which verification starts;
    ``head_seq``/``head_hash`` the last event sealed, so that events removed from the end are
    noticed too. ``mac`` authenticates all of them with the chain key
    (``ostiary.activity.chain.chain_mac``): the head and anchor cannot be moved by someone who
    can write the database but not read the server secret. Kept here, below every package that
    records events, beside the table it describes; the activity log (``ostiary.activity``)
    writes it.
    """

    __tablename__ = "event_chain"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    anchor_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    anchor_hash: Mapped[str] = mapped_column(String(64))
    head_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    head_hash: Mapped[str] = mapped_column(String(64))
    # Migration 0019: what verification checks against the retention, and the row's MAC (NULL
    # only before the first sealing run).
    anchor_created_at: Mapped[datetime | None] = mapped_column()
    mac: Mapped[str | None] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


CHAIN_ID = "events"
GENESIS = "0" * 64
"""The hash before the first event."""
