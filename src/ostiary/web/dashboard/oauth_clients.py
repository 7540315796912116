"""Applications: the OAuth clients the account registered. The secret is shown once, after
registration or rotation; rotating (with a grace of none, 1 hour, 1 day or 7 days, during which
the old secret works too) and deleting ask for confirmation."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from ostiary.clock import utcnow
from ostiary.errors import InvalidParams
from ostiary.oauth_clients.models import ClientType, OAuthClient
from ostiary.oauth_clients.queries import clients_of, find_client
from ostiary.oauth_clients.services import register_client, rotate_secret, update_client
from ostiary.tokens.owners import delete_client
from ostiary.unit import Unit
from ostiary.web.dashboard.grace import GRACE_CHOICES, chosen_grace
from ostiary.web.dashboard.pages import (
    OWNER_SCOPES,
    PREFIX,
    SCOPE_CHOICES,
    Visitor,
    act,
    confirm_identity,
    done,
    field,
    render,
    show,
)

router = APIRouter(include_in_schema=False)
APPLICATIONS = f"{PREFIX}/applications"


def _uris(form: FormData) -> list[str]:
    text = form.get("redirect_uris", "")
    return [line.strip() for line in str(text).splitlines() if line.strip()]


def _rotation(client: OAuthClient) -> dict[str, Any]:
    """The application page's context for rotating: the client, the grace choices, and when
    the secret a rotation with a grace replaced stops working (None when it no longer does)."""
    ends = client.previous_secret_expires_at
    return {
        "client": client,
        "grace_choices": GRACE_CHOICES,
        "old_secret_until": ends if ends is not None and ends > utcnow() else None,
    }


def _find(
    session: Session, visitor: Visitor, client_id: str, *, for_change: bool = False
) -> OAuthClient:
    return find_client(session, client_id, owner_id=visitor.account.id, for_change=for_change)


@router.get(APPLICATIONS)
async def applications_page(request: Request) -> Response:
    """The account's registered applications."""

    def build(session: Session, visitor: Visitor) -> Response:
        clients = session.scalars(
            clients_of(visitor.account.id).order_by(OAuthClient.created_at)
        ).all()
        return render(request, visitor, "applications.html", clients=clients)

    return show(request, build)


@router.get(f"{APPLICATIONS}/new")
async def new_application(request: Request) -> Response:
    """The registration form."""
    return show(
        request,
        lambda session, visitor: render(
            request, visitor, "application_form.html", client=None, scope_choices=SCOPE_CHOICES
        ),
    )


@router.post(APPLICATIONS)
async def register(request: Request) -> Response:
    """Register an application; show its secret once."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        client_type = ClientType(field(form, "client_type") or ClientType.CONFIDENTIAL)
        scopes = [str(s) for s in form.getlist("client_credentials_scopes")]
        if scopes:
            # A client-credentials client is a credential of its own: as sensitive as a token.
            confirm_identity(visitor)
        registered = register_client(
            unit,
            owner_id=visitor.account.id,
            name=field(form, "name"),
            description=field(form, "description"),
            redirect_uris=_uris(form),
            client_type=client_type,
            client_credentials_scopes=scopes or None,
            creator_scopes=OWNER_SCOPES,
        )
        return render(
            request,
            visitor,
            "application.html",
            secret=registered.secret,
            flash="Application registered.",
            **_rotation(registered.client),
        )

    return await act(request, f"{APPLICATIONS}/new", work, proof_field="password")


@router.get(f"{APPLICATIONS}/{{client_id}}")
async def application_page(request: Request, client_id: str) -> Response:
    """One application, with its edit form."""
    return show(
        request,
        lambda session, visitor: render(
            request,
            visitor,
            "application.html",
            **_rotation(_find(session, visitor, client_id)),
        ),
    )


@router.post(f"{APPLICATIONS}/{{client_id}}")
async def edit(request: Request, client_id: str) -> Response:
    """Rename an application or replace its redirect URIs."""
    here = f"{APPLICATIONS}/{client_id}"

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        update_client(
            unit,
            _find(unit.session, visitor, client_id, for_change=True),
            actor_id=visitor.account.id,
            name=field(form, "name"),
            description=field(form, "description"),
            redirect_uris=_uris(form),
        )
        return done(here, "Application saved.")

    return await act(request, here, work)


@router.post(f"{APPLICATIONS}/{{client_id}}/rotate")
async def rotate(request: Request, client_id: str) -> Response:
    """A new secret, shown once; the old one stops working, or with a grace also works that
    long, so the application can roll the new one across its servers."""
    here = f"{APPLICATIONS}/{client_id}"

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        if form.get("confirm") != "yes":
            raise InvalidParams("confirm", "Tick the box to confirm: the old secret stops working.")
        grace_period = chosen_grace(form)
        confirm_identity(visitor)
        client = _find(unit.session, visitor, client_id, for_change=True)
        secret = rotate_secret(unit, client, actor_id=visitor.account.id, grace_period=grace_period)
        ends = client.previous_secret_expires_at
        flash = (
            f"A new secret was issued; the old one works until {ends:%Y-%m-%d %H:%M:%S} UTC."
            if grace_period and ends
            else "A new secret was issued; the old one no longer works."
        )
        return render(
            request,
            visitor,
            "application.html",
            secret=secret,
            flash=flash,
            **_rotation(client),
        )

    return await act(request, here, work, proof_field="password")


@router.get(f"{APPLICATIONS}/{{client_id}}/delete")
async def confirm_delete(request: Request, client_id: str) -> Response:
    """Ask before deleting."""
    return show(
        request,
        lambda session, visitor: render(
            request,
            visitor,
            "confirm.html",
            title=f"Delete {_find(session, visitor, client_id).name}?",
            explanation="Every token granted to this application stops working, and its users "
            "will have to authorize it again if you register it anew.",
            action=f"{APPLICATIONS}/{client_id}/delete",
            button="Delete application",
            cancel=f"{APPLICATIONS}/{client_id}",
        ),
    )


@router.post(f"{APPLICATIONS}/{{client_id}}/delete")
async def delete(request: Request, client_id: str) -> Response:
    """Delete the application and revoke everything granted to it."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        client = _find(unit.session, visitor, client_id, for_change=True)
        name = client.name
        delete_client(unit, client, actor_id=visitor.account.id)
        return done(APPLICATIONS, f"{name} was deleted.")

    return await act(request, f"{APPLICATIONS}/{client_id}", work)
