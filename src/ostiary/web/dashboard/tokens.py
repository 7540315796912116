"""Tokens: the account's personal authorizations. Create (scopes with their meaning, an expiry
of 7, 30, 90 or 365 days or never), shown once; last use and where from; rotate (with a grace
of none, 1 hour, 1 day or 7 days: the old token is listed as retiring, with its own last use);
revoke. Expired
ones stay listed as expired. The list leads with the account's busiest credentials of the week;
each credential's own page shows its usage (``web.dashboard.usage``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from ostiary.clock import utcnow
from ostiary.errors import InvalidParams
from ostiary.scopes import parse_scopes
from ostiary.tokens.models import Authorization, AuthorizationKind
from ostiary.tokens.queries import authorizations_of, find_authorization
from ostiary.tokens.records import NewAuthorization
from ostiary.tokens.rotation import retiring_tokens
from ostiary.tokens.rules import is_expired
from ostiary.tokens.services import create_authorization, revoke
from ostiary.unit import Unit
from ostiary.usage.queries import credential_of
from ostiary.web.context import services_of
from ostiary.web.dashboard.expiring import expiring_rows
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
    new_token,
    render,
    show,
)
from ostiary.web.dashboard.token_policy import out_of_policy_ids
from ostiary.web.dashboard.usage import KIND_NAMES, busiest_rows, usage_view

router = APIRouter(include_in_schema=False)
TOKENS = f"{PREFIX}/tokens"
EXPIRY_CHOICES = [
    ("7", "7 days"),
    ("30", "30 days"),
    ("90", "90 days"),
    ("365", "1 year"),
    ("", "Never"),
]


def _page(request: Request, session: Session, visitor: Visitor, **context: Any) -> Response:
    tokens = session.scalars(
        authorizations_of(visitor.account.id)
        .where(Authorization.kind == AuthorizationKind.PERSONAL)
        .order_by(Authorization.created_at.desc())
    ).all()
    return render(
        request,
        visitor,
        "tokens.html",
        tokens=[(token, is_expired(token)) for token in tokens],
        retiring=retiring_tokens(session, tokens, utcnow()),
        grace_choices=GRACE_CHOICES,
        out_of_policy=out_of_policy_ids(request, session, visitor.account.id, tokens),
        busiest=busiest_rows(session, visitor.account.id),
        expiring=expiring_rows(session, visitor.account.id, services_of(request).settings),
        expiry_choices=EXPIRY_CHOICES,
        scope_choices=SCOPE_CHOICES,
        **context,
    )


@router.get(TOKENS)
async def tokens_page(request: Request) -> Response:
    """The account's tokens and the form to create one."""
    return show(request, lambda session, visitor: _page(request, session, visitor))


@router.get(f"{TOKENS}/{{authorization_id}}")
async def token_page(request: Request, authorization_id: str) -> Response:
    """One credential of the account (a token, the API key, a client-credentials client's)
    and its usage over the last 7 days."""

    def build(session: Session, visitor: Visitor) -> Response:
        token = credential_of(session, visitor.account.id, authorization_id)
        return render(
            request,
            visitor,
            "token.html",
            token=token,
            kind=KIND_NAMES.get(AuthorizationKind(token.kind), token.kind),
            expired=is_expired(token),
            view=usage_view(session, [token.id]),
            retiring=retiring_tokens(session, [token], utcnow())[token.id],
        )

    return show(request, build)


@router.post(TOKENS)
async def create(request: Request) -> Response:
    """Create a token; its plaintext is in this answer only."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        scopes = parse_scopes([str(s) for s in form.getlist("scope")])
        days = field(form, "expires_in_days")
        if days and days not in {value for value, _ in EXPIRY_CHOICES}:
            raise InvalidParams("expires_in_days", "Choose one of the offered expiries.")
        if "global" in scopes or not days:
            # As powerful as the API key, or alive until revoked: as sensitive as revealing it.
            confirm_identity(visitor)
        issued = create_authorization(
            unit,
            NewAuthorization(
                account_id=visitor.account.id,
                scopes=scopes,
                description=field(form, "description")[:500],
                expires_in=int(days) * 86400 if days else None,
                creator_scopes=OWNER_SCOPES,
            ),
        )
        return _page(request, unit.session, visitor, new_token=issued.access.plaintext)

    return await act(request, TOKENS, work, proof_field="password")


@router.post(f"{TOKENS}/{{authorization_id}}/rotate")
async def rotate(request: Request, authorization_id: str) -> Response:
    """A new token for the same authorization (shown once); the old one stops working, or
    with a grace keeps working that long, listed as retiring."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        grace_period = chosen_grace(form)
        confirm_identity(visitor)
        authorization = find_authorization(
            unit.session, visitor.account.id, authorization_id, for_update=True
        )
        issued = new_token(unit, authorization, grace_period)
        unit.session.flush()
        return _page(request, unit.session, visitor, new_token=issued)

    return await act(request, TOKENS, work, proof_field="password")


@router.post(f"{TOKENS}/{{authorization_id}}/revoke")
async def revoke_token(request: Request, authorization_id: str) -> Response:
    """Revoke a token; it stops working at once."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        authorization = find_authorization(unit.session, visitor.account.id, authorization_id)
        description = authorization.description or "The token"
        revoke(unit, authorization)
        return done(TOKENS, f"{description} was revoked.")

    return await act(request, TOKENS, work)
