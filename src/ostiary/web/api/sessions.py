"""The oauth-session resource: ``/oauth/sessions`` (not in Heroku's schema; fields id,
description, expires_in, created_at, updated_at, as the heroku CLI reads them).

``~`` is the session of the token making the request. Deleting a session revokes every
authorization created through it.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ostiary.accounts.models import LoginSession
from ostiary.accounts.sessions import find_session, live_sessions_of
from ostiary.clock import isoformat, seconds_until
from ostiary.tokens.owners import close_session
from ostiary.web.api.deps import CallerDep, SessionDep, UnitDep
from ostiary.web.api.ranges import RangeHeader, list_response, paginate, parse_range
from ostiary.web.api.shapes import Timestamp

router = APIRouter(tags=["oauth-session"])

SORTABLE = ("id",)
COLUMNS = {"id": LoginSession.id}


class SessionOut(BaseModel):
    """A login session."""

    id: str
    description: str
    expires_in: int | None
    created_at: Timestamp
    updated_at: Timestamp


def present_session(login: LoginSession) -> SessionOut:
    """A session as the heroku CLI reads it."""
    return SessionOut(
        id=login.id,
        description=login.description,
        expires_in=seconds_until(login.expires_at),
        created_at=isoformat(login.created_at) or "",
        updated_at=isoformat(login.updated_at) or "",
    )


@router.get("/oauth/sessions", response_model=list[SessionOut], summary="OAuth session list")
async def list_sessions(
    caller: CallerDep, session: SessionDep, range_header: RangeHeader = None
) -> JSONResponse:
    """The account's live sessions."""
    requested = parse_range(range_header, SORTABLE, "id")
    page = paginate(session, live_sessions_of(caller.account_id), COLUMNS, requested)
    return list_response(page, present_session, SORTABLE)


@router.delete(
    "/oauth/sessions/{session_identity}", response_model=SessionOut, summary="OAuth session delete"
)
async def delete_session(session_identity: str, caller: CallerDep, unit: UnitDep) -> SessionOut:
    """End a session (``~``: the current one) and revoke the authorizations made through it."""
    wanted = caller.principal.session_id if session_identity == "~" else session_identity
    login = find_session(unit.session, caller.account_id, wanted)
    shown = present_session(login)
    close_session(unit, login, actor_id=caller.account_id)
    return shown
