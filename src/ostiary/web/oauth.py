"""The OAuth 2.0 authorization server's HTTP endpoints (the part Heroku runs as id.heroku.com).

``POST /oauth/token``, ``/oauth/revoke``, ``/oauth/introspect``, ``/oauth/device/code`` and the
RFC 8414 metadata. They speak RFC 6749's wire format, not the Platform API's: form-encoded
requests, ``{"error", "error_description"}`` errors, no Accept version. Token responses carry
``Cache-Control: no-store`` and ``Pragma: no-cache`` (R35). CORS is allowed on token, revocation,
introspection and metadata, never on the authorization endpoint (R31). Rule numbers refer to
docs/oauth-server-rules.md.

Here the protocol core (``ostiary.oauth2``) meets storage: each grant is bound to the domain's
store for it and to a transaction of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response

from ostiary.clock import utcnow
from ostiary.errors import OstiaryError, Unauthorized
from ostiary.metrics import count_token_issued
from ostiary.oauth2 import rfc7009, rfc7662, rfc8414, rfc8628
from ostiary.oauth2.errors import OAuthError, from_domain, invalid_client, invalid_request
from ostiary.oauth2.protocols import ClientStore, Issued
from ostiary.oauth2.requests import ClientCredentials, client_credentials, parse_form
from ostiary.oauth2.rfc6749.client_auth import authenticate_client
from ostiary.oauth2.rfc6749.grants import authorization_code, refresh_token
from ostiary.oauth2.rfc6749.grants import client_credentials as cc
from ostiary.oauth2.rfc6749.token_endpoint import Grant, TokenEndpoint
from ostiary.oauth_clients.errors import ClientChanged
from ostiary.oauth_clients.oauth_storage import Clients, RememberingClients
from ostiary.oauth_clients.records import ClientRecord
from ostiary.prepared import DirectTransaction
from ostiary.scopes import ALL_SCOPES, parse_scopes
from ostiary.tokens.client_credentials import ClientCredentialsTokens
from ostiary.tokens.oauth_storage import (
    CodeGrants,
    DeviceGrants,
    RefreshTokens,
    Revocations,
    TokenDescriptions,
)
from ostiary.unit import Unit
from ostiary.web.context import Services, request_context, services_of, unit_of
from ostiary.web.errors import persist_audit

router = APIRouter(tags=["oauth2"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
CORS = {"Access-Control-Allow-Origin": "*"}
T = TypeVar("T")


def issuer_of(request: Request, services: Services) -> str:
    """This server's issuer identifier: configured, or the URL it is reached at."""
    configured = services.settings.issuer
    if configured:
        return configured.rstrip("/")
    return str(request.base_url).rstrip("/")


async def _form(request: Request) -> dict[str, str]:
    if request.headers.get("content-type", "").split(";")[0].strip() != (
        "application/x-www-form-urlencoded"
    ):
        raise invalid_request("The body must be application/x-www-form-urlencoded.")
    return parse_form(await request.body())


@contextmanager
def _oauth_errors(request: Request) -> Iterator[None]:
    """Domain errors become OAuth errors (RFC 6749 section 5.2); their audit is kept."""
    try:
        yield
    except OstiaryError as error:
        persist_audit(request, error)
        basic = request.headers.get("authorization", "").lower().startswith("basic ")
        raise from_domain(error, basic=basic) from error


def _in_unit(request: Request, work: Callable[[Unit], T]) -> T:
    """Run OAuth work in one write transaction of its own."""
    with services_of(request).database.unit_of_work(write=True) as session:
        return work(unit_of(request, session))


def grants(
    request: Request, staged: list[Callable[[DirectTransaction], None]]
) -> dict[str, Grant[ClientRecord]]:
    """The token endpoint's grants, each bound to its store and its own transaction; the client
    credentials grant's writes go to ``staged``, for the caller to commit before answering."""
    services = services_of(request)

    def in_unit(run: Callable[[Unit, ClientRecord, dict[str, str]], Issued]) -> Grant[ClientRecord]:
        return lambda client, form: _in_unit(request, lambda unit: run(unit, client, form))

    def client_credentials_grant(client: ClientRecord, form: dict[str, str]) -> Issued:
        # The hot machine-to-machine grant stages its writes for a group commit (group_commit.py).
        tokens = ClientCredentialsTokens(
            services.hasher, request_context(request), services.settings.oauth_access_token_ttl
        )
        issued = cc.grant(tokens, client, form, parse_scopes)
        staged.extend(tokens.staged)
        return issued

    return {
        authorization_code.GRANT_TYPE: in_unit(
            lambda unit, client, form: authorization_code.grant(
                CodeGrants(unit), client, form, unit.now()
            )
        ),
        refresh_token.GRANT_TYPE: in_unit(
            lambda unit, client, form: refresh_token.grant(
                RefreshTokens(unit), client, form, unit.now(), parse_scopes
            )
        ),
        rfc8628.GRANT_TYPE: in_unit(
            lambda unit, client, form: rfc8628.grant(DeviceGrants(unit), client, form, unit.now())
        ),
        cc.GRANT_TYPE: client_credentials_grant,
    }


@dataclass(frozen=True, slots=True)
class _Authenticating:
    """How the token endpoint authenticates a request's client: the store it finds the client
    in, and the credentials when they were read already (for the memory)."""

    clients: ClientStore[ClientRecord]
    credentials: ClientCredentials | None = None

    @property
    def recalled(self) -> str | None:
        """The id of a client the worker's memory gave, if it gave one."""
        return self.clients.recalled if isinstance(self.clients, RememberingClients) else None


def _authenticating(request: Request, form: dict[str, str]) -> _Authenticating:
    """Through the worker's memory for the client credentials grant (whose storing transaction
    reads the client again), by a read otherwise."""
    services = services_of(request)
    reads = Clients(services.database, services.hasher)
    if form.get("grant_type") != cc.GRANT_TYPE:
        return _Authenticating(reads)
    credentials = client_credentials(request.headers.get("authorization"), form)
    memory = RememberingClients(
        reads, services.client_memory, services.hasher, credentials.client_secret
    )
    return _Authenticating(memory, credentials)


def _may_come_of_memory(refused: OstiaryError) -> bool:
    """Whether a refusal of a request whose client was remembered may be the memory's: the
    client changed since (``ClientChanged``), or the grant refused the client as remembered (an
    owner disabled then, scopes narrower then). Not a failed authentication (a secret
    remembered only stops authenticating when its rotation's grace ends, which a fresh read
    would not change) nor a suspension (read in the storing transaction): those are answered
    as they are, counted once by the failure throttle."""
    return isinstance(refused, ClientChanged) or not isinstance(refused, Unauthorized)


async def _issue(
    request: Request, form: dict[str, str], authenticating: _Authenticating
) -> dict[str, object]:
    """The token response for the form, its client authenticated as ``authenticating`` says,
    once what it issued is committed (together with the writes of the token requests ready at
    the same time)."""
    services = services_of(request)
    staged: list[Callable[[DirectTransaction], None]] = []
    endpoint = TokenEndpoint(
        authenticating.clients, services.failure_throttle, grants(request, staged)
    )
    body = endpoint.handle(
        request_context(request).ip,
        form,
        request.headers.get("authorization"),
        authenticating.credentials,
    )
    try:
        for write in staged:
            await services.database.group_commit.run(write)
    except services.database.integrity_error as refused:
        # The client was deleted while its token waited for the commit (its authorization
        # row's foreign key): the token is not written, and the client no longer exists.
        raise invalid_client("The client no longer exists.") from refused
    return body


@router.post("/oauth/token", summary="Token endpoint (RFC 6749 section 3.2)")
async def token(request: Request) -> JSONResponse:
    """Exchange a grant for tokens. A client-credentials token is answered once its rows are
    committed.

    That grant's client may be one the worker remembers (``ClientMemory``): its storing
    transaction reads the client again, so a token is never issued on what was remembered.
    A refusal that may come of the memory (:func:`_may_come_of_memory`) is not the answer: the
    client is forgotten and the request served once more, on the client as it stands.
    """
    form = await _form(request)
    with _oauth_errors(request):
        authenticating = _authenticating(request, form)
        try:
            body = await _issue(request, form, authenticating)
        except OstiaryError as refused:
            recalled = authenticating.recalled
            if recalled is None or not _may_come_of_memory(refused):
                raise
            services_of(request).client_memory.forget(recalled)
            body = await _issue(request, form, _authenticating(request, form))
    count_token_issued(form["grant_type"])  # committed: only a known grant gets this far
    return JSONResponse(body, headers={**NO_STORE, **CORS})


def _client(
    request: Request,
    form: dict[str, str],
    *,
    allow_public: bool,
    clients: ClientStore[ClientRecord] | None = None,
) -> ClientRecord:
    services = services_of(request)
    credentials = client_credentials(request.headers.get("authorization"), form)
    return authenticate_client(
        clients if clients is not None else Clients(services.database, services.hasher),
        services.failure_throttle,
        request_context(request).ip,
        credentials,
        allow_public=allow_public,
    )


@router.post("/oauth/revoke", summary="Token revocation (RFC 7009)")
async def revoke(request: Request) -> Response:
    """Revoke a token; 200 even when the token is unknown."""
    form = await _form(request)
    with _oauth_errors(request):
        client = _client(request, form, allow_public=True)
        _in_unit(request, lambda unit: rfc7009.revoke(Revocations(unit), client, form))
    return Response(status_code=200, headers={**NO_STORE, **CORS})


@router.post("/oauth/introspect", summary="Token introspection (RFC 7662)")
async def introspect(request: Request) -> JSONResponse:
    """What an authenticated client may know about a token."""
    form = await _form(request)
    services = services_of(request)
    with _oauth_errors(request):
        # One store for both: it reads the client and the token together.
        tokens = TokenDescriptions(
            services.database,
            services.hasher,
            services.settings.api_key_max_age,
            named=form.get("token"),
        )
        client = _client(request, form, allow_public=False, clients=tokens)
        body = rfc7662.introspect(tokens, client, form, utcnow())
    return JSONResponse(body, headers={**NO_STORE, **CORS})


@router.post("/oauth/device/code", summary="Device authorization (RFC 8628 section 3.1)")
async def device_code(request: Request) -> JSONResponse:
    """Codes for a device that will poll while its user approves it at /device. Each address
    has a small budget of these (429 ``temporarily_unavailable`` with Retry-After past it)."""
    services = services_of(request)
    with _oauth_errors(request):
        services.login_requests.spend(request_context(request).ip)
    form = await _form(request)
    verification_uri = f"{issuer_of(request, services)}/device"
    with _oauth_errors(request):
        client = _client(request, form, allow_public=True)
        body = _in_unit(
            request,
            lambda unit: rfc8628.device_authorization(
                DeviceGrants(unit), client, form, verification_uri, parse_scopes
            ),
        )
    return JSONResponse(body, headers={**NO_STORE, **CORS})


@router.get(
    "/.well-known/oauth-authorization-server", summary="Authorization server metadata (RFC 8414)"
)
async def metadata(request: Request) -> JSONResponse:
    """What this authorization server supports."""
    services = services_of(request)
    document = rfc8414.metadata(
        issuer_of(request, services), list(grants(request, [])), sorted(ALL_SCOPES), device=True
    )
    return JSONResponse(document, headers=CORS)


async def handle_oauth_error(request: Request, exc: Exception) -> JSONResponse:
    """Render an OAuthError (RFC 6749 section 5.2), never cached."""
    assert isinstance(exc, OAuthError)
    return JSONResponse(exc.body(), status_code=exc.status, headers={**NO_STORE, **exc.headers})


def install(app: FastAPI) -> None:
    """Add the OAuth endpoints and their error rendering to the application."""
    app.include_router(router)
    app.add_exception_handler(OAuthError, handle_oauth_error)
