"""Login sessions: created by a password (or later browser) login; ending one revokes the
authorizations created through it and keeps its row, marked ended. Services never commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Select, or_, select
from sqlalchemy.orm import Session

from ostiary.accounts.models import LoginSession
from ostiary.clock import utcnow
from ostiary.errors import NotFound
from ostiary.events import RequestContext, record_event
from ostiary.tokens.models import Authorization
from ostiary.tokens.services import revoke_with_descendants


def open_session(
    session: Session,
    context: RequestContext,
    *,
    account_id: str,
    description: str,
    expires_at: datetime | None,
) -> LoginSession:
    """Start a login session for an account."""
    login = LoginSession(
        account_id=account_id,
        description=description,
        ip=context.ip,
        user_agent=(context.user_agent or "")[:400] or None,
        expires_at=expires_at,
        authenticated_at=utcnow(),
    )
    session.add(login)
    session.flush()
    record_event(
        session,
        context,
        "session:create",
        actor_id=account_id,
        target_type="session",
        target_id=login.id,
    )
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


def close_session(
    session: Session, context: RequestContext, login: LoginSession, *, actor_id: str
) -> None:
    """End a session and revoke every authorization created through it (with their
    descendants); the row stays, marked ended, until the purge's retention has passed."""
    now = utcnow()
    revoked = revoke_with_descendants(session, Authorization.session_id == login.id, now=now)
    login.ended_at = now
    record_event(
        session,
        context,
        "session:destroy",
        actor_id=actor_id,
        target_type="session",
        target_id=login.id,
        details={"authorizations_revoked": revoked},
    )
