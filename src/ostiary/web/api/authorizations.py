"""The oauth-authorization resource: ``/oauth/authorizations`` (Heroku schema definition
``oauth-authorization``), the account's API key as ``~``, and password login.

Listings and info show tokens redacted as ``head**********tail`` (the heroku CLI's logout matches
that form); only the response that creates or regenerates a token carries its plaintext.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ostiary.clock import isoformat, seconds_until, utcnow
from ostiary.errors import Forbidden
from ostiary.metrics import count_token_issued
from ostiary.policies.queries import policy_in_force
from ostiary.policies.rules import is_out_of_policy
from ostiary.second_factors.errors import EnrollmentRequired, SecondFactorRequired, WrongCode
from ostiary.second_factors.queries import enrolled_factors
from ostiary.second_factors.services import check_code
from ostiary.security.grace import parse_grace_period
from ostiary.security.tokens import redact
from ostiary.tokens.models import AccessToken, Authorization, RefreshToken
from ostiary.tokens.owners import password_login
from ostiary.tokens.queries import api_key_of, authorizations_of, find_authorization, live_tokens
from ostiary.tokens.records import IssuedAuthorization, LiveTokens, RequestedAuthorization
from ostiary.tokens.rotation import retiring_tokens
from ostiary.tokens.rules import is_expired
from ostiary.tokens.services import create_child, describe, regenerate_as, revoke
from ostiary.unit import Unit
from ostiary.web.api.deps import (
    CallerDep,
    CallerOrLoginDep,
    PasswordLogin,
    ServicesDep,
    SessionDep,
    UnitDep,
)
from ostiary.web.api.ranges import RangeHeader, list_response, paginate, parse_range
from ostiary.web.api.shapes import Body, IdOnly, Timestamp
from ostiary.web.context import Services
from ostiary.web.oauth import issuer_of
from ostiary.web.sign_in import ENROL_PATH

router = APIRouter(tags=["oauth-authorization"])

SORTABLE = ("id",)
COLUMNS = {"id": Authorization.id}
API_KEY = "~"


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
    """The authorization code a client can exchange at ``POST /oauth/tokens``."""

    code: str
    expires_in: int
    id: str


class RetiringTokenOut(BaseModel):
    """An access token replaced by a regeneration with a grace period: it works until
    ``retiring_at``; its last use shows who has not moved to the new token yet."""

    id: str
    token: str
    retiring_at: Timestamp
    last_used_at: Timestamp | None
    last_used_ip: str | None


class AuthorizationOut(BaseModel):
    """An authorization, in Heroku's shape, plus Ostiary's extensions: ``expired``,
    ``parent``, the authorization whose token created this one (it dies with it), and
    ``retiring``, the old tokens still in a rotation's grace period."""

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
    expired: bool
    parent: IdOnly | None
    retiring: list[RetiringTokenOut] = []
    out_of_policy: bool = Field(
        default=False,
        description="made before a stricter token policy: it expires at the policy's limit "
        "counted from the change (listing only; docs/token-lifecycle.md)",
    )


class AuthorizationCreate(Body):
    """A new authorization: scope (``["global"]`` when absent), description, lifetime, client."""

    scope: list[str] | str | None = Field(default=None, examples=[["read", "write"]])
    description: str = ""
    expires_in: int | str | None = Field(default=None, description="seconds; null = never")
    client: str | dict[str, str] | None = Field(default=None, description="client id")


class AuthorizationRegenerate(Body):
    """How to regenerate: ``grace_period``, seconds the old token keeps working (0 or absent:
    it ends at once; at most 7 days)."""

    grace_period: Any = Field(default=None, description="seconds, 0 to 604800")


class AuthorizationUpdate(Body):
    """What may change on an authorization: its description."""

    description: str


def _token(
    row: AccessToken | RefreshToken | None, plaintext: str | None, expiry: datetime | None
) -> TokenOut | None:
    if row is None:
        return None
    shown = plaintext or redact(row.display_head, row.display_tail)
    return TokenOut(expires_in=seconds_until(expiry), id=row.id, token=shown)


def present_authorization(
    authorization: Authorization,
    token: AccessToken | None,
    plaintext: str | None = None,
    *,
    refresh: RefreshToken | None = None,
    refresh_plaintext: str | None = None,
    grant: GrantOut | None = None,
    retiring: Sequence[AccessToken] = (),
) -> AuthorizationOut:
    """An authorization in Heroku's shape; tokens in plaintext only when given."""
    account = authorization.account
    client = authorization.client
    return AuthorizationOut(
        access_token=_token(token, plaintext, token.expires_at if token else None),
        client=AuthorizationClient(
            # A first-party device client (the ostiary CLI) has no redirect URI at all.
            id=client.id,
            name=client.name,
            redirect_uri=client.redirect_uris[0] if client.redirect_uris else "",
        )
        if client
        else None,
        created_at=isoformat(authorization.created_at) or "",
        description=authorization.description,
        grant=grant,
        id=authorization.id,
        refresh_token=_token(refresh, refresh_plaintext, authorization.expires_at),
        scope=list(authorization.scopes),
        session=IdOnly(id=authorization.session_id) if authorization.session_id else None,
        updated_at=isoformat(authorization.updated_at) or "",
        user=AuthorizationUser(id=account.id, email=account.email, full_name=account.name),
        expired=is_expired(authorization),
        parent=IdOnly(id=authorization.parent_id) if authorization.parent_id else None,
        retiring=[_retiring(row) for row in retiring],
    )


def _retiring(row: AccessToken) -> RetiringTokenOut:
    return RetiringTokenOut(
        id=row.id,
        token=redact(row.display_head, row.display_tail),
        retiring_at=isoformat(row.expires_at) or "",
        last_used_at=isoformat(row.last_used_at),
        last_used_ip=row.last_used_ip,
    )


def present_issued(
    issued: IssuedAuthorization,
    grant: GrantOut | None = None,
    retiring: Sequence[AccessToken] = (),
) -> AuthorizationOut:
    """A just-issued authorization, its new tokens in plaintext (this answer only)."""
    return present_authorization(
        issued.authorization,
        issued.access.row,
        issued.access.plaintext,
        refresh=issued.refresh.row if issued.refresh else None,
        refresh_plaintext=issued.refresh.plaintext if issued.refresh else None,
        grant=grant,
        retiring=retiring,
    )


def _present(
    authorization: Authorization, tokens: LiveTokens, retiring: Sequence[AccessToken] = ()
) -> AuthorizationOut:
    return present_authorization(
        authorization, tokens.access, refresh=tokens.refresh, retiring=retiring
    )


def _present_stored(session: Session, authorization: Authorization) -> AuthorizationOut:
    retiring = retiring_tokens(session, [authorization], utcnow())[authorization.id]
    return _present(
        authorization, live_tokens(session, [authorization])[authorization.id], retiring
    )


def _find(
    session: Session, caller: CallerDep, identity: str, *, for_update: bool = False
) -> Authorization:
    if identity == API_KEY:
        return api_key_of(session, caller.account_id, for_update=for_update)
    return find_authorization(session, caller.account_id, identity, for_update=for_update)


def _client_id(value: str | dict[str, str] | None) -> str | None:
    if isinstance(value, dict):
        return value.get("id")
    return value


def _requested(body: AuthorizationCreate) -> RequestedAuthorization:
    return RequestedAuthorization(
        scope=body.scope,
        description=body.description,
        expires_in=body.expires_in,
        client_id=_client_id(body.client),
    )


def _created(issued: IssuedAuthorization, grant_ttl: int) -> JSONResponse:
    grant = None
    if issued.grant is not None:
        grant = GrantOut(code=issued.grant.code, expires_in=grant_ttl, id=issued.grant.row.id)
    shown = present_issued(issued, grant)
    return JSONResponse(shown.model_dump(mode="json"), status_code=201)


def _second_factor(request: Request, unit: Unit, services: Services, account_id: str) -> None:
    """After the password: an account with a second factor must send a current one in
    ``Heroku-Two-Factor-Code`` (a TOTP or a recovery code), else 403 ``two_factor`` as Heroku
    answers (its clients then ask for the code and retry); wrong codes are throttled and
    recorded. While the server requires a second factor, an account without one is refused
    with 403 ``two_factor_enrollment_required``, pointing to the dashboard."""
    if not enrolled_factors(unit.session, account_id):
        if services.settings.require_2fa:
            raise EnrollmentRequired(issuer_of(request, services) + ENROL_PATH)
        return
    code = request.headers.get("heroku-two-factor-code", "").strip()
    if not code:
        raise SecondFactorRequired
    try:
        check_code(unit, services.failure_throttle, account_id, code)
    except WrongCode as error:
        raise SecondFactorRequired(audit=error.audit) from None


@router.post(
    "/oauth/authorizations",
    response_model=AuthorizationOut,
    status_code=201,
    summary="OAuth authorization create (or password login)",
)
async def post_authorization(
    request: Request,
    credentials: CallerOrLoginDep,
    unit: UnitDep,
    services: ServicesDep,
    body: AuthorizationCreate | None = None,
) -> JSONResponse:
    """Create an authorization, at most as wide as the credential creating it.

    With Basic ``email:password`` (``heroku login -i``) this is a password login: it opens a
    session, and the authorization dies with it; an account with a second factor also sends
    ``Heroku-Two-Factor-Code`` (checked after the password, so a wrong password is 401 and
    says nothing of second factors). With a token it is that token's child: it expires no
    later than the token's authorization and is revoked with it.
    """
    requested = _requested(body or AuthorizationCreate())
    if isinstance(credentials, PasswordLogin):
        # Checked before the transaction begins: argon2 runs in the pool, holding no lock.
        proof = await services.passwords.login(
            credentials.context, credentials.email, credentials.password
        )
        _second_factor(request, unit, services, proof.account_id)
        issued = password_login(unit, proof, requested)
        count_token_issued("password")
    else:
        parent = credentials.authorization(unit.session)
        issued = create_child(unit, parent, requested, creator_scopes=credentials.principal.scopes)
        count_token_issued("authorization")
    return _created(issued, unit.lifetimes.grant_code)


@router.get(
    "/oauth/authorizations",
    response_model=list[AuthorizationOut],
    summary="OAuth authorization list",
)
async def list_authorizations(
    caller: CallerDep, session: SessionDep, unit: UnitDep, range_header: RangeHeader = None
) -> JSONResponse:
    """The account's authorizations (not its API key), tokens redacted, expired ones marked."""
    requested = parse_range(range_header, SORTABLE, "id")
    page = paginate(session, authorizations_of(caller.account_id), COLUMNS, requested)
    tokens = live_tokens(session, page.items)
    retiring = retiring_tokens(session, page.items, utcnow())
    policy = policy_in_force(session, unit.lifetimes, caller.account_id)

    def present(item: Authorization) -> AuthorizationOut:
        out = is_out_of_policy(policy, list(item.scopes), item.expires_at, item.created_at)
        shown = _present(item, tokens[item.id], retiring[item.id])
        return shown.model_copy(update={"out_of_policy": out})

    return list_response(page, present, SORTABLE)


@router.get(
    "/oauth/authorizations/{authorization_identity}",
    response_model=AuthorizationOut,
    summary="OAuth authorization info",
)
async def get_authorization(
    authorization_identity: str, caller: CallerDep, session: SessionDep
) -> AuthorizationOut:
    """An authorization by id, or the API key as ``~``; tokens redacted."""
    return _present_stored(session, _find(session, caller, authorization_identity))


@router.patch(
    "/oauth/authorizations/{authorization_identity}",
    response_model=AuthorizationOut,
    summary="OAuth authorization update",
)
async def patch_authorization(
    authorization_identity: str, body: AuthorizationUpdate, caller: CallerDep, unit: UnitDep
) -> AuthorizationOut:
    """Change an authorization's description."""
    authorization = _find(unit.session, caller, authorization_identity, for_update=True)
    describe(unit, authorization, body.description)
    unit.session.flush()
    return _present_stored(unit.session, authorization)


@router.delete(
    "/oauth/authorizations/{authorization_identity}",
    response_model=AuthorizationOut,
    summary="OAuth authorization delete",
)
async def delete_authorization(
    authorization_identity: str, caller: CallerDep, unit: UnitDep
) -> AuthorizationOut:
    """Revoke an authorization; answers with it. Its tokens fail from the next request on."""
    if authorization_identity == API_KEY:
        raise Forbidden("The API key cannot be deleted; regenerate it instead.")
    authorization = _find(unit.session, caller, authorization_identity, for_update=True)
    shown = _present_stored(unit.session, authorization)
    revoke(unit, authorization)
    return shown


@router.post(
    "/oauth/authorizations/{authorization_identity}/actions/regenerate-tokens",
    response_model=AuthorizationOut,
    summary="OAuth authorization regenerate",
)
async def regenerate_authorization(
    authorization_identity: str,
    caller: CallerDep,
    unit: UnitDep,
    body: AuthorizationRegenerate | None = None,
) -> AuthorizationOut:
    """New tokens, same scopes, description and lifetime; the old ones die with this answer,
    or with ``grace_period`` (seconds, at most 7 days) keep working until it ends, listed in
    ``retiring``. A token may regenerate itself and what it made; only a root credential (the
    API key, a dashboard-made token) may regenerate the rest, the API key included."""
    grace_period = parse_grace_period(body.grace_period if body else None)
    regenerating = caller.authorization(unit.session)
    authorization = _find(unit.session, caller, authorization_identity, for_update=True)
    issued = regenerate_as(unit, regenerating, authorization, grace_period)
    count_token_issued("regenerate")
    unit.session.flush()
    retiring = retiring_tokens(unit.session, [authorization], unit.now())[authorization.id]
    return present_issued(issued, retiring=retiring)
