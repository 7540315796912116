"""Authorized applications: the OAuth clients this account granted access, with scopes, when,
and last use; each one's page shows the usage of the grants to it. Revoking one ends every grant
to it at once."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from ostiary.errors import NotFound
from ostiary.oauth_clients.models import OAuthClient
from ostiary.tokens.queries import client_grants
from ostiary.tokens.services import revoke_client_access
from ostiary.unit import Unit
from ostiary.usage.queries import client_authorizations
from ostiary.web.dashboard.pages import PREFIX, Visitor, act, done, render, show
from ostiary.web.dashboard.usage import usage_view

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


@router.get(f"{AUTHORIZED}/{{client_id}}")
async def authorized_application_page(request: Request, client_id: str) -> Response:
    """One application this account authorized, and the usage of its grants (7 days)."""

    def build(session: Session, visitor: Visitor) -> Response:
        ids = client_authorizations(session, visitor.account.id, client_id)
        client = session.get(OAuthClient, client_id) if ids else None
        if client is None:
            raise NotFound("application", "You have not authorized that application.")
        grants = [g for g in client_grants(session, visitor.account.id) if g.client_id == client_id]
        return render(
            request,
            visitor,
            "authorized_application.html",
            client=client,
            grant=grants[0] if grants else None,
            view=usage_view(session, ids),
        )

    return show(request, build)


@router.post(f"{AUTHORIZED}/{{client_id}}/revoke")
async def revoke(request: Request, client_id: str) -> Response:
    """Revoke every grant to one application; its tokens stop working at once."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        revoke_client_access(unit, visitor.account.id, client_id)
        return done(AUTHORIZED, "Access revoked; that application's tokens no longer work.")

    return await act(request, AUTHORIZED, work)
