"""Authorized applications: the OAuth clients this account granted access, with scopes, when,
and last use. Revoking one ends every grant to it at once."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from ostiary.tokens.queries import client_grants
from ostiary.tokens.services import revoke_client_access
from ostiary.unit import Unit
from ostiary.web.dashboard.pages import PREFIX, Visitor, act, done, render, show

router = APIRouter(include_in_schema=False)
AUTHORIZED = f"{PREFIX}/authorized-applications"


@router.get(AUTHORIZED)
async def authorized_page(request: Request) -> Response:
    """The applications this account authorized."""
    return show(
        request,
        lambda session, visitor: render(
            request, visitor, "authorized.html", grants=client_grants(session, visitor.account.id)
        ),
    )


@router.post(f"{AUTHORIZED}/{{client_id}}/revoke")
async def revoke(request: Request, client_id: str) -> Response:
    """Revoke every grant to one application; its tokens stop working at once."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        revoke_client_access(unit, visitor.account.id, client_id)
        return done(AUTHORIZED, "Access revoked; that application's tokens no longer work.")

    return await act(request, AUTHORIZED, work)
