"""The oauth-token resource: ``POST /oauth/tokens`` and ``DELETE /oauth/tokens/{id}`` (Heroku
schema definition ``oauth-token``).

A client exchanges a grant code, or rotates a refresh token, authenticating with its secret in the
body as Heroku's API does (the form-encoded RFC 6749 endpoint is ``/oauth/token``). Ostiary answers
``client`` as null: a secret is never echoed.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ostiary.clock import isoformat, seconds_until, utcnow
from ostiary.errors import InvalidParams
from ostiary.metrics import count_token_issued
from ostiary.oauth2.rfc6749.client_auth import ClientSecretBeside
from ostiary.oauth2.rfc6749.grants.authorization_code import redeem_code
from ostiary.oauth2.rfc6749.grants.refresh_token import rotate_refresh
from ostiary.oauth_clients.oauth_storage import Clients
from ostiary.scopes import parse_scopes
from ostiary.tokens.oauth_storage import CodeGrants, RefreshTokens
from ostiary.tokens.records import IssuedAuthorization
from ostiary.tokens.services import revoke_access_token
from ostiary.web.api.authorizations import TokenOut
from ostiary.web.api.deps import CallerDep, ServicesDep, UnitDep, require_api_version
from ostiary.web.api.shapes import Body, IdOnly, Timestamp
from ostiary.web.oauth import NO_STORE

router = APIRouter(tags=["oauth-token"])


class GrantIn(Body):
    """The grant being exchanged."""

    type: Literal["authorization_code", "refresh_token"]
    code: str | None = None


class SecretIn(Body):
    """The client's credential."""

    secret: str | None = None


class RefreshIn(Body):
    """The refresh token being rotated."""

    token: str | None = None


class TokenCreate(Body):
    """Heroku's token request: ``{client: {secret}, grant, refresh_token: {token}}``."""

    grant: GrantIn
    client: SecretIn = SecretIn()
    refresh_token: RefreshIn = RefreshIn()


class GrantRef(BaseModel):
    """The grant the tokens came from: the (now spent) code the client sent, or "" for a
    refresh."""

    code: str
    type: str


class OAuthTokenOut(BaseModel):
    """Tokens issued to a client, in Heroku's shape (``client`` is always null)."""

    access_token: TokenOut
    authorization: IdOnly
    client: None
    created_at: Timestamp
    grant: GrantRef
    id: str
    refresh_token: TokenOut | None
    session: IdOnly | None
    updated_at: Timestamp
    user: IdOnly


def _present(issued: IssuedAuthorization, grant: GrantRef) -> OAuthTokenOut:
    authorization = issued.authorization
    access = issued.access
    refresh_token = issued.refresh
    return OAuthTokenOut(
        access_token=TokenOut(
            expires_in=seconds_until(access.row.expires_at),
            id=access.row.id,
            token=access.plaintext,
        ),
        authorization=IdOnly(id=authorization.id),
        client=None,
        created_at=isoformat(access.row.created_at or utcnow()) or "",
        grant=grant,
        id=access.row.id,
        refresh_token=TokenOut(
            expires_in=seconds_until(authorization.expires_at),
            id=refresh_token.row.id,
            token=refresh_token.plaintext,
        )
        if refresh_token
        else None,
        session=IdOnly(id=authorization.session_id) if authorization.session_id else None,
        updated_at=isoformat(utcnow()) or "",
        user=IdOnly(id=authorization.account_id),
    )


@router.post(
    "/oauth/tokens",
    response_model=OAuthTokenOut,
    status_code=201,
    summary="OAuth token create",
    dependencies=[Depends(require_api_version)],
)
async def post_token(body: TokenCreate, unit: UnitDep, services: ServicesDep) -> JSONResponse:
    """Exchange a grant code, or rotate a refresh token, for new tokens."""
    client = ClientSecretBeside(Clients(services.database, services.hasher), body.client.secret)
    if body.grant.type == "authorization_code":
        if not body.grant.code:
            raise InvalidParams("grant.code", "grant.code is required for authorization_code.")
        issued = redeem_code(
            CodeGrants(unit),
            client,
            code=body.grant.code,
            code_verifier=None,
            redirect_uri=None,
            now=unit.now(),
        )
        grant = GrantRef(code=body.grant.code, type="authorization_code")
    else:
        if not body.refresh_token.token:
            raise InvalidParams("refresh_token.token", "refresh_token.token is required.")
        issued = rotate_refresh(
            RefreshTokens(unit),
            client,
            token=body.refresh_token.token,
            scope=None,
            parse_scope=parse_scopes,
            now=unit.now(),
        )
        grant = GrantRef(code="", type="refresh_token")
    count_token_issued(grant.type)
    shown = _present(issued, grant)
    return JSONResponse(
        shown.model_dump(mode="json"),
        status_code=201,
        headers=NO_STORE,
    )


@router.delete(
    "/oauth/tokens/{token_identity}", response_model=IdOnly, summary="OAuth token delete"
)
async def delete_token(token_identity: str, caller: CallerDep, unit: UnitDep) -> IdOnly:
    """Revoke one access token of the account (and what it made); it fails from the next
    request on."""
    token = revoke_access_token(unit, caller.account_id, token_identity)
    return IdOnly(id=token.id)
