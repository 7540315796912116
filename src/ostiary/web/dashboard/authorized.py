"""Authorized applications: the OAuth clients this account granted access, with scopes, when,
and last use. Revoking one ends every grant to it at once."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from ostiary.errors import NotFound
from ostiary.events import record_event
from ostiary.oauth_clients.models import OAuthClient
from ostiary.tokens.models import Authorization, AuthorizationKind
from ostiary.tokens.services import revoke_with_descendants
from ostiary.web.dashboard.pages import PREFIX, Visitor, act, done, render, show

router = APIRouter(include_in_schema=False)
AUTHORIZED = f"{PREFIX}/authorized-applications"


@dataclass(frozen=True, slots=True)
class Grant:
    """What the account granted one client, across its authorizations."""

    client_id: str
    client_name: str
    scopes: list[str]
    granted_at: datetime
    last_used_at: datetime | None


def _grants(session: Session, account_id: str) -> list[Grant]:
    rows = session.execute(
        select(Authorization, OAuthClient.name)
        .join(OAuthClient, Authorization.client_id == OAuthClient.id)
        .where(
            Authorization.account_id == account_id,
            Authorization.kind == AuthorizationKind.OAUTH,
            Authorization.revoked_at.is_(None),
        )
    ).all()
    by_client: dict[str, list[tuple[Authorization, str]]] = defaultdict(list)
    for authorization, name in rows:
        by_client[authorization.client_id or ""].append((authorization, name))
    grants = []
    for client_id, items in by_client.items():
        used = [a.last_used_at for a, _ in items if a.last_used_at is not None]
        grants.append(
            Grant(
                client_id=client_id,
                client_name=items[0][1],
                scopes=sorted({scope for a, _ in items for scope in a.scopes}),
                granted_at=min(a.created_at for a, _ in items),
                last_used_at=max(used) if used else None,
            )
        )
    return sorted(grants, key=lambda grant: grant.client_name.lower())


@router.get(AUTHORIZED)
async def authorized_page(request: Request) -> Response:
    """The applications this account authorized."""
    return show(
        request,
        lambda session, visitor: render(
            request, visitor, "authorized.html", grants=_grants(session, visitor.account.id)
        ),
    )


@router.post(f"{AUTHORIZED}/{{client_id}}/revoke")
async def revoke(request: Request, client_id: str) -> Response:
    """Revoke every grant to one application; its tokens stop working at once."""

    def work(session: Session, visitor: Visitor, form: FormData) -> Response:
        revoked = revoke_with_descendants(
            session,
            Authorization.account_id == visitor.account.id,
            Authorization.client_id == client_id,
            Authorization.kind == AuthorizationKind.OAUTH,
        )
        if revoked == 0:
            raise NotFound("authorization")
        record_event(
            session,
            visitor.context,
            "oauth:client:access-revoked",
            actor_id=visitor.account.id,
            target_type="client",
            target_id=client_id,
            details={"authorizations": revoked},
        )
        return done(AUTHORIZED, "Access revoked; that application's tokens no longer work.")

    return await act(request, AUTHORIZED, work)
