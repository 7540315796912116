"""The account's API key as Heroku addresses it: ``/oauth/authorizations/~``.

(The rest of ``/oauth/authorizations`` builds on the same presenter.) Shape: schema definition
``oauth-authorization``. Listings and info show the token redacted as ``head**********tail``; only
the response that creates or regenerates a token carries its plaintext.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from ostiary.clock import isoformat, utcnow
from ostiary.security.tokens import redact
from ostiary.tokens.models import AccessToken, Authorization
from ostiary.tokens.services import api_key_of, current_access_token, regenerate_tokens
from ostiary.web.api.deps import CallerDep, ServicesDep, SessionDep
from ostiary.web.api.shapes import IdOnly, Timestamp

router = APIRouter(tags=["oauth-authorization"])


class TokenOut(BaseModel):
    """An access or refresh token reference; ``token`` is redacted except when just created."""

    expires_in: int | None
    id: str
    token: str


class AuthorizationClient(BaseModel):
    """The client an authorization was granted to."""

    id: str
    name: str
    redirect_uri: str


class AuthorizationUser(BaseModel):
    """The account an authorization acts for."""

    id: str
    email: str
    full_name: str | None


class GrantOut(BaseModel):
    """An authorization code grant (only while a code is outstanding)."""

    code: str
    expires_in: int
    id: str


class AuthorizationOut(BaseModel):
    """An authorization, in Heroku's shape."""

    access_token: TokenOut | None
    client: AuthorizationClient | None
    created_at: Timestamp
    description: str
    grant: GrantOut | None
    id: str
    refresh_token: TokenOut | None
    scope: list[str]
    session: IdOnly | None
    updated_at: Timestamp
    user: AuthorizationUser


def present_authorization(
    authorization: Authorization, token: AccessToken | None, plaintext: str | None = None
) -> AuthorizationOut:
    """An authorization in Heroku's shape; the token in plaintext only when given one."""
    access: TokenOut | None = None
    if token is not None:
        expires_in = None
        if token.expires_at is not None:
            expires_in = max(0, int((token.expires_at - utcnow()).total_seconds()))
        access = TokenOut(
            expires_in=expires_in,
            id=token.id,
            token=plaintext or redact(token.display_head, token.display_tail),
        )
    account = authorization.account
    return AuthorizationOut(
        access_token=access,
        client=None,
        created_at=isoformat(authorization.created_at) or "",
        description=authorization.description,
        grant=None,
        id=authorization.id,
        refresh_token=None,
        scope=list(authorization.scopes),
        session=None,
        updated_at=isoformat(authorization.updated_at) or "",
        user=AuthorizationUser(id=account.id, email=account.email, full_name=account.name),
    )


@router.get("/oauth/authorizations/~", response_model=AuthorizationOut, summary="API key info")
async def get_api_key(caller: CallerDep, session: SessionDep) -> AuthorizationOut:
    """The account's API key authorization, its token redacted."""
    authorization = api_key_of(session, caller.account_id)
    return present_authorization(authorization, current_access_token(session, authorization))


@router.post(
    "/oauth/authorizations/~/actions/regenerate-tokens",
    response_model=AuthorizationOut,
    summary="API key regenerate",
)
async def regenerate_api_key(
    caller: CallerDep, session: SessionDep, services: ServicesDep
) -> AuthorizationOut:
    """Replace the API key; the old key stops working once this answers."""
    authorization = api_key_of(session, caller.account_id, for_update=True)
    issued = regenerate_tokens(
        session, services.hasher, authorization, caller.context, actor_id=caller.account_id
    )
    session.flush()
    return present_authorization(authorization, issued.row, issued.plaintext)
