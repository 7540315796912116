"""The oauth-client resource: ``/oauth/clients`` (Heroku schema definition ``oauth-client``).

Ostiary's extensions: ``redirect_uris`` (all registered URIs; ``redirect_uri`` is the first),
``client_type`` (``confidential`` with a secret, or ``public`` without, for native apps and CLIs)
and ``client_credentials_scopes`` (the scopes the client-credentials grant may give, or null),
and ``previous_secret_expires_at`` (when the secret a rotation with a grace period replaced stops
working, or null). A secret appears only in the answers that create or rotate it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from ostiary.clock import isoformat, utcnow
from ostiary.oauth_clients.models import ClientType, OAuthClient
from ostiary.oauth_clients.queries import clients_of, find_client
from ostiary.oauth_clients.services import register_client, rotate_secret, update_client
from ostiary.security.grace import parse_grace_period
from ostiary.tokens.owners import delete_client
from ostiary.tokens.rules import check_may_make_machine_credentials
from ostiary.web.api.deps import CallerDep, SessionDep, UnitDep, require_api_version
from ostiary.web.api.ranges import RangeHeader, list_response, paginate, parse_range
from ostiary.web.api.shapes import Body, Timestamp

router = APIRouter(tags=["oauth-client"])

SORTABLE = ("id", "name")
COLUMNS = {"id": OAuthClient.id, "name": OAuthClient.name}


class ClientOut(BaseModel):
    """A client in Heroku's shape (without its secret), with Ostiary's extensions."""

    created_at: Timestamp
    id: str
    ignores_delinquent: bool | None
    name: str
    redirect_uri: str
    updated_at: Timestamp
    redirect_uris: list[str]
    client_type: str
    client_credentials_scopes: list[str] | None
    previous_secret_expires_at: Timestamp | None = None


class ClientWithSecretOut(ClientOut):
    """A client with its secret: only in the answer that creates or rotates it."""

    secret: str | None


class ClientCreate(Body):
    """A new client: a name and at least one redirect URI."""

    name: str
    redirect_uri: str | None = None
    redirect_uris: list[str] | None = None
    client_type: ClientType = ClientType.CONFIDENTIAL
    client_credentials_scopes: list[str] | str | None = Field(default=None, examples=[["read"]])


class ClientRotate(Body):
    """How to rotate: ``grace_period``, seconds the old secret keeps authenticating the client
    (0 or absent: it ends at once; at most 7 days)."""

    grace_period: Any = Field(default=None, description="seconds, 0 to 604800")


class ClientUpdate(Body):
    """What may change on a client."""

    name: str | None = None
    redirect_uri: str | None = None
    redirect_uris: list[str] | None = None
    client_credentials_scopes: list[str] | str | None = None


def present_client(client: OAuthClient) -> ClientOut:
    """A client in Heroku's shape, without its secret."""
    return ClientOut(
        created_at=isoformat(client.created_at) or "",
        id=client.id,
        ignores_delinquent=False,
        name=client.name,
        redirect_uri=client.redirect_uris[0],
        updated_at=isoformat(client.updated_at) or "",
        redirect_uris=list(client.redirect_uris),
        client_type=client.client_type,
        client_credentials_scopes=client.client_credentials_scopes,
        previous_secret_expires_at=_previous_ends(client),
    )


def _previous_ends(client: OAuthClient) -> str | None:
    ends = client.previous_secret_expires_at
    return isoformat(ends) if ends is not None and ends > utcnow() else None


def _with_secret(client: OAuthClient, secret: str | None) -> ClientWithSecretOut:
    return ClientWithSecretOut(**present_client(client).model_dump(), secret=secret)


def _uris(redirect_uri: str | None, redirect_uris: list[str] | None) -> list[str] | None:
    if redirect_uri is None and redirect_uris is None:
        return None
    uris = list(redirect_uris or [])
    if redirect_uri is not None:
        uris = [redirect_uri, *[uri for uri in uris if uri != redirect_uri]]
    return uris


@router.post(
    "/oauth/clients",
    response_model=ClientWithSecretOut,
    status_code=201,
    summary="OAuth client create",
)
async def post_client(body: ClientCreate, caller: CallerDep, unit: UnitDep) -> JSONResponse:
    """Register a client; a confidential client's secret is in this answer only."""
    # A client's secret outlives the token that registers it: not a token in a rotation's grace.
    credential = caller.authorization(unit.session)
    if body.client_credentials_scopes is not None:
        check_may_make_machine_credentials(credential)
    registered = register_client(
        unit,
        owner_id=caller.account_id,
        name=body.name,
        redirect_uris=_uris(body.redirect_uri, body.redirect_uris) or [],
        client_type=body.client_type,
        client_credentials_scopes=body.client_credentials_scopes,
        creator_scopes=caller.principal.scopes,
    )
    shown = _with_secret(registered.client, registered.secret)
    return JSONResponse(shown.model_dump(mode="json"), status_code=201)


@router.get("/oauth/clients", response_model=list[ClientOut], summary="OAuth client list")
async def list_clients(
    caller: CallerDep, session: SessionDep, range_header: RangeHeader = None
) -> JSONResponse:
    """The clients this account registered, without secrets."""
    requested = parse_range(range_header, SORTABLE, "id")
    page = paginate(session, clients_of(caller.account_id), COLUMNS, requested)
    return list_response(page, present_client, SORTABLE)


@router.get(
    "/oauth/clients/{client_identity}",
    response_model=ClientOut,
    summary="OAuth client info (no credentials needed)",
    dependencies=[Depends(require_api_version)],
)
async def get_client(client_identity: str, session: SessionDep) -> ClientOut:
    """A client's public description, for anyone who knows its id: never its secret."""
    return present_client(find_client(session, client_identity))


@router.patch(
    "/oauth/clients/{client_identity}", response_model=ClientOut, summary="OAuth client update"
)
async def patch_client(
    client_identity: str, body: ClientUpdate, caller: CallerDep, unit: UnitDep
) -> ClientOut:
    """Rename a client, or replace its redirect URIs or client-credentials scopes."""
    client = find_client(unit.session, client_identity, owner_id=caller.account_id, for_change=True)
    # Its redirect URIs decide where grants go: not for a token in a rotation's grace.
    credential = caller.authorization(unit.session)
    changes: dict[str, Any] = {}
    if "client_credentials_scopes" in body.model_fields_set:
        if body.client_credentials_scopes is not None:
            check_may_make_machine_credentials(credential)
        changes["client_credentials_scopes"] = body.client_credentials_scopes
    update_client(
        unit,
        client,
        actor_id=caller.account_id,
        name=body.name,
        redirect_uris=_uris(body.redirect_uri, body.redirect_uris),
        creator_scopes=caller.principal.scopes,
        **changes,
    )
    unit.session.flush()
    return present_client(client)


@router.delete(
    "/oauth/clients/{client_identity}", response_model=ClientOut, summary="OAuth client delete"
)
async def remove_client(client_identity: str, caller: CallerDep, unit: UnitDep) -> ClientOut:
    """Delete a client and revoke every authorization granted to it; answers with the client."""
    client = find_client(unit.session, client_identity, owner_id=caller.account_id, for_change=True)
    shown = present_client(client)
    delete_client(unit, client, actor_id=caller.account_id)
    return shown


@router.post(
    "/oauth/clients/{client_identity}/actions/rotate-credentials",
    response_model=ClientWithSecretOut,
    summary="OAuth client rotate credentials",
)
async def rotate_client(
    client_identity: str, caller: CallerDep, unit: UnitDep, body: ClientRotate | None = None
) -> ClientWithSecretOut:
    """A new secret, in this answer only; the old one stops working at once, or with
    ``grace_period`` (seconds, at most 7 days) also authenticates the client until it ends."""
    grace_period = parse_grace_period(body.grace_period if body else None)
    client = find_client(unit.session, client_identity, owner_id=caller.account_id, for_change=True)
    # The new secret outlives the token that asks for it: not a token in a rotation's grace.
    credential = caller.authorization(unit.session)
    if client.client_credentials_scopes is not None:
        check_may_make_machine_credentials(credential)
    secret = rotate_secret(unit, client, actor_id=caller.account_id, grace_period=grace_period)
    unit.session.flush()
    return _with_secret(client, secret)
