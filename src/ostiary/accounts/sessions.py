"""Login sessions: created by a password (or later browser) login; ending one revokes the
authorizations created through it and keeps its row, marked ended. Services take the request's
:class:`~ostiary.unit.Unit` and never commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, or_, select, update
from sqlalchemy.orm import Session

from ostiary.accounts.models import LoginSession
from ostiary.clock import utcnow
from ostiary.errors import NotFound
from ostiary.unit import Unit


def open_session(
    unit: Unit,
    *,
    account_id: str,
    description: str,
    expires_at: datetime | None,
) -> LoginSession:
    """Start a login session for an account."""
    context = unit.context
    login = LoginSession(
        account_id=account_id,
        description=description,
        ip=context.ip,
        user_agent=(context.user_agent or "")[:400] or None,
        expires_at=expires_at,
        authenticated_at=unit.now(),
    )
    unit.session.add(login)
    unit.session.flush()
    unit.record("session:create", actor_id=account_id, target_type="session", target_id=login.id)
    return login


def live_sessions_of(account_id: str) -> Select[LoginSession]:
    """The account's sessions neither ended nor expired, as a query for pagination."""
    now = utcnow()
    return select(LoginSession).where(
        LoginSession.account_id == account_id,
        LoginSession.ended_at.is_(None),
        or_(LoginSession.expires_at.is_(None), LoginSession.expires_at > now),
    )


def find_session(session: Session, account_id: str, session_id: str | None) -> LoginSession:
    """One of the account's live sessions."""
    found = None
    if session_id is not None:
        found = session.scalar(live_sessions_of(account_id).where(LoginSession.id == session_id))
    if found is None:
        raise NotFound("session")
    return found


def mark_seen(unit: Unit, login_id: str) -> None:
    """Record that a session was just used, and from which address (the sessions page's "last
    seen"): one UPDATE, without loading the row."""
    unit.session.execute(
        update(LoginSession)
        .where(LoginSession.id == login_id)
        .values(updated_at=unit.now(), ip=unit.context.ip)
    )
