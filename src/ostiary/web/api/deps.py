"""Dependencies every API route shares, as ``Annotated`` aliases.

- ``CallerDep``: checks the API version (the Accept header must ask for version 3), authenticates
  the token (Bearer, or Basic with the token as password), counts the request against the
  account's rate limit, and checks the route's scopes. Every API route takes it, or
  ``require_api_version`` when it takes no credentials; a test sends every route a request
  without a version to hold that true.
- ``SessionDep``: the request's one transaction, committed before the response is sent.
- ``UnitDep``: the :class:`~ostiary.unit.Unit` the services take, in that same transaction.

They are ``async def`` on purpose: FastAPI runs a plain ``def`` dependency in a thread pool, and
that hop cost two thirds of the throughput on these machines (docs/architecture.md). Data access
is synchronous SQLAlchemy called inline; SQLite answers these indexed queries in microseconds.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from ostiary.apps.records import AppAccess
from ostiary.errors import (
    BadRequest,
    MissingVersion,
    NotAcceptable,
    RateLimited,
    ScopeRequired,
    Unauthorized,
)
from ostiary.events import RequestContext
from ostiary.metrics import RATE_LIMITED
from ostiary.security.tokens import display_parts, redact, token_kind
from ostiary.tokens.models import Authorization
from ostiary.tokens.queries import find_parent
from ostiary.tokens.records import Principal
from ostiary.unit import Unit
from ostiary.web.api.scopes import UNCOUNTED_ROUTES, allowed_scopes
from ostiary.web.context import Services, request_context, services_of, unit_of

API_MEDIA_TYPE = "application/vnd.heroku+json"
_VERSION = re.compile(r"version=([^;,\s]+)")
_QUERY_TOKEN_PARAMS = ("access_token", "token", "api_key")
_MISSING_VERSION = (
    "Please specify a version along with Heroku's API MIME type. For example, "
    "`Accept: application/vnd.heroku+json; version=3`."
)


def check_api_version(request: Request) -> None:
    """Accept ``application/vnd.heroku+json; version=3`` (or ``3.<variant>``) only.

    A missing version, or a plain ``application/json``, gets 400 ``missing_version``; another
    version gets 406 ``not_acceptable``.
    """
    accept = request.headers.get("accept", "")
    if API_MEDIA_TYPE not in accept:
        raise MissingVersion(_MISSING_VERSION)
    match = _VERSION.search(accept)
    if match is None:
        raise MissingVersion(_MISSING_VERSION)
    version = match.group(1)
    if version != "3" and not version.startswith("3."):
        raise NotAcceptable(f"API version {version} is not supported; use version=3.")


def bearer_token(request: Request) -> str | None:
    """The token of a request: Bearer, or the password part of Basic (as ``curl -n`` sends)."""
    if request.scope["query_string"] and any(
        name in request.query_params for name in _QUERY_TOKEN_PARAMS
    ):
        raise BadRequest(
            "Tokens are not accepted in the query string; send them in the Authorization header."
        )
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, credentials = header.partition(" ")
    credentials = credentials.strip()
    if scheme.lower() == "bearer" and credentials:
        return credentials
    basic = basic_credentials(header)
    return basic[1] if basic else None


def basic_credentials(header: str | None) -> tuple[str, str] | None:
    """The (user, password) of a Basic Authorization header, if it is one."""
    scheme, _, credentials = (header or "").partition(" ")
    if scheme.lower() != "basic" or not credentials.strip():
        return None
    try:
        decoded = base64.b64decode(credentials.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, separator, password = decoded.partition(":")
    return (user, password) if separator and password else None


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated API request: who, with which scopes, and which apps it may reach."""

    principal: Principal
    app_access: AppAccess
    context: RequestContext

    @property
    def account_id(self) -> str:
        """The id of the account the request acts for."""
        return self.principal.account_id

    def authorization(self, session: Session) -> Authorization:
        """The authorization of the presenting token, locked and its token checked again in
        this transaction (``tokens.queries.find_parent``): for the routes that act on
        credentials."""
        principal = self.principal
        return find_parent(session, principal.authorization_id, principal.access_token_id)


def _route_key(request: Request) -> tuple[str, str]:
    route = request.scope.get("route")
    return request.method, route.path if route is not None else request.scope["path"]


async def require_api_version(request: Request) -> None:
    """The version check alone, for API routes that take no credentials."""
    check_api_version(request)


async def authenticate_caller(request: Request) -> Caller:
    """Check the API version, then authenticate, rate-limit and scope-check the request."""
    check_api_version(request)
    return authenticate_checked(request)


def authenticate_checked(request: Request) -> Caller:
    """Authenticate, rate-limit and scope-check a request whose Accept header was checked
    already (by :func:`check_api_version`, or by a route that serves other media types, as the
    activity log's exports)."""
    services: Services = services_of(request)
    context = request_context(request)
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("No credentials provided: send `Authorization: Bearer <token>`.")
    state = request.scope["state"]
    try:
        principal = services.authenticator.authenticate(token, context)
    except Unauthorized as refused:
        # A dead or expired credential refused is still that credential's use (monitoring).
        if refused.audit is not None and refused.audit.target_type == "authorization":
            state["authorization_id"] = refused.audit.target_id
        raise
    # What monitoring reads from the finished request (web.middleware.ObservedRequest).
    state["account_id"] = principal.account_id
    state["authorization_id"] = principal.authorization_id
    # The credential this request's events record (web.context.request_context): never the
    # token itself, only its listing form.
    redacted = state["redacted_token"] = redact(*display_parts(token))
    state["client_id"] = principal.client_id
    # The conventions middleware shows it as Ostiary-Token-Expires (web.middleware).
    state["token_expires_at"] = principal.expires_at
    # The context read before authenticating, with the credential: not read again from the
    # request (a second pass over its headers on every authenticated call).
    context = dataclasses.replace(
        context,
        authorization_id=principal.authorization_id,
        token=redacted,
        client_id=principal.client_id,
    )

    route_key = _route_key(request)
    limiter = services.rate_limiter
    if route_key in UNCOUNTED_ROUTES:
        request.state.rate_limit_remaining = limiter.remaining(principal.account_id)
    else:
        decision = limiter.hit(principal.account_id)
        request.state.rate_limit_remaining = decision.remaining
        if not decision.allowed:
            RATE_LIMITED.labels(limit="account").inc()
            raise RateLimited(decision.retry_after)

    allowed = allowed_scopes(*route_key)
    granted = principal.scopes & allowed
    if not granted:
        raise ScopeRequired(allowed)
    only_created_by = principal.authorization_id if granted == {"create-apps"} else None
    return Caller(
        principal=principal,
        app_access=AppAccess(principal.account_id, only_created_by),
        context=context,
    )


@dataclass(frozen=True, slots=True)
class PasswordLogin:
    """Basic ``email:password``, accepted by ``POST /oauth/authorizations`` only (what the
    heroku CLI's ``login -i`` sends)."""

    email: str
    password: str
    context: RequestContext


async def caller_or_password_login(request: Request) -> Caller | PasswordLogin:
    """A token's caller; or a password login, for Basic credentials whose password is no token."""
    check_api_version(request)
    basic = basic_credentials(request.headers.get("authorization"))
    if basic is not None and basic[0] and token_kind(basic[1]) is None:
        return PasswordLogin(email=basic[0], password=basic[1], context=request_context(request))
    return await authenticate_caller(request)


async def unit_of_work(request: Request) -> AsyncIterator[Session]:
    """The request's transaction: writers for unsafe methods, readers for GET."""
    database = services_of(request).database
    with database.unit_of_work(write=request.method not in ("GET", "HEAD")) as session:
        yield session


SessionDep = Annotated[Session, Depends(unit_of_work, scope="function")]


async def request_unit(request: Request, session: SessionDep) -> Unit:
    """The request's unit, in its one transaction (the ``SessionDep`` session)."""
    return unit_of(request, session)


async def get_services(request: Request) -> Services:
    """The application's services."""
    return services_of(request)


CallerDep = Annotated[Caller, Depends(authenticate_caller)]
CallerOrLoginDep = Annotated[Caller | PasswordLogin, Depends(caller_or_password_login)]
ServicesDep = Annotated[Services, Depends(get_services)]
UnitDep = Annotated[Unit, Depends(request_unit)]
