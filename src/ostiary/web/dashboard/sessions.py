"""Sessions: where the account is signed in (browsers and command lines), from which address,
last seen when; sign out one, or every other."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from ostiary.accounts.models import LoginSession
from ostiary.accounts.sessions import find_session, live_sessions_of
from ostiary.tokens.owners import close_other_sessions, close_session
from ostiary.unit import Unit
from ostiary.web.dashboard.pages import PREFIX, Visitor, act, done, render, show

router = APIRouter(include_in_schema=False)
SESSIONS = f"{PREFIX}/sessions"


@router.get(SESSIONS)
async def sessions_page(request: Request) -> Response:
    """The account's live sessions, this one marked."""

    def build(session: Session, visitor: Visitor) -> Response:
        logins = session.scalars(
            live_sessions_of(visitor.account.id).order_by(LoginSession.updated_at.desc())
        ).all()
        return render(request, visitor, "sessions.html", logins=logins)

    return show(request, build)


@router.post(f"{SESSIONS}/others/delete")
async def sign_out_others(request: Request) -> Response:
    """End every session but this one."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        ended = close_other_sessions(unit, visitor.account.id, visitor.login.id)
        return done(SESSIONS, f"Signed out {ended} other session(s).")

    return await act(request, SESSIONS, work)


@router.post(f"{SESSIONS}/{{session_id}}/delete")
async def sign_out(request: Request, session_id: str) -> Response:
    """End one session (and the tokens made through it)."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        login = find_session(unit.session, visitor.account.id, session_id)
        close_session(unit, login, actor_id=visitor.account.id)
        return done(SESSIONS, "Session signed out.")

    return await act(request, SESSIONS, work)
