"""The authorization endpoint (RFC 6749 section 4.1.1): ``GET /oauth/authorize`` shows, ``POST``
decides.

No session: the login page first, then back here. Consent already given to the client for these
scopes (a live authorization covers them) skips the page unless ``prompt=consent``. Allow and
Deny are CSRF-protected POSTs answered with 303 (R28). Every response to the client carries
``iss`` (RFC 9207; R26). No CORS here (R31). Rule numbers refer to docs/oauth-server-rules.md.
"""

from __future__ import annotations

from urllib.parse import urlencode, urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ostiary.accounts.models import Account
from ostiary.oauth2.errors import OAuthError
from ostiary.oauth2.requests import parse_form
from ostiary.oauth2.rfc6749.authorization_endpoint import (
    AuthorizationRequest,
    FatalAuthorizationError,
    RedirectedError,
    add_query,
    validate,
)
from ostiary.oauth_clients.oauth_storage import RegisteredClients
from ostiary.scopes import MEANINGS, parse_scopes
from ostiary.tokens.queries import consented
from ostiary.tokens.services import grant_code
from ostiary.web.browser import PAGE_HEADERS, csrf_token, csrf_valid, current_login, page, see_other
from ostiary.web.context import services_of, unit_of
from ostiary.web.oauth import issuer_of
from ostiary.web.sign_in import enrolment_needed, enrolment_url

router = APIRouter(tags=["pages"], include_in_schema=False)

FORWARDED = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
)


def _redirect(location: str, *, post: bool) -> Response:
    if post:
        return see_other(location)
    return RedirectResponse(location, status_code=302, headers=PAGE_HEADERS)


def _issue(
    request: Request,
    session: Session,
    auth: AuthorizationRequest,
    account_id: str,
    *,
    post: bool,
) -> Response:
    services = services_of(request)
    grant = grant_code(
        unit_of(request, session),
        account_id=account_id,
        client=auth.client,
        scopes=auth.scopes,
        redirect_uri=auth.redirect_uri if auth.redirect_uri_given else None,
        code_challenge=auth.code_challenge,
    )
    location = add_query(
        auth.redirect_uri,
        {"code": grant.code, "state": auth.state, "iss": issuer_of(request, services)},
    )
    return _redirect(location, post=post)


def _consent_page(
    request: Request,
    auth: AuthorizationRequest,
    account: Account,
    params: dict[str, str],
) -> Response:
    return page(
        request,
        "approve.html",
        verb="Authorize",
        client_name=auth.client.name,
        action="/oauth/authorize",
        description="",
        user_code=None,
        email=account.email,
        redirect_host=urlsplit(auth.redirect_uri).netloc,
        scopes=[(scope, MEANINGS[scope]) for scope in auth.scopes],
        params=[(name, params[name]) for name in FORWARDED if name in params],
        csrf=csrf_token(request, "consent"),
    )


def _params(request: Request) -> dict[str, str]:
    # Repeated parameters are refused (R36) by parse_form.
    return parse_form(request.url.query.encode())


@router.get("/oauth/authorize")
async def authorize(request: Request) -> Response:
    """Validate the request; log in, ask for consent, or answer with a code."""
    services = services_of(request)
    issuer = issuer_of(request, services)
    try:
        params = _params(request)
        with services.database.unit_of_work(write=True) as session:
            auth = validate(RegisteredClients(session), params, parse_scopes)
            login = current_login(request, session)
            if auth.prompt == "login" or login is None:
                if auth.prompt == "none":
                    raise RedirectedError(
                        auth.redirect_uri, "login_required", "Login required.", auth.state
                    )
                # The login about to happen satisfies prompt=login; prompt=consent still holds.
                again = {k: v for k, v in params.items() if (k, v) != ("prompt", "login")}
                target = "/oauth/authorize?" + urlencode(again)
                return _redirect("/login?" + urlencode({"next": target}), post=False)
            if enrolment_needed(request, session, login.account_id):
                target = enrolment_url("/oauth/authorize?" + urlencode(params))
                return _redirect(target, post=False)
            account = session.get(Account, login.account_id)
            assert account is not None
            remembered = consented(session, account.id, auth.client.id, auth.scopes)
            if remembered and auth.prompt != "consent":
                return _issue(request, session, auth, account.id, post=False)
            if auth.prompt == "none":
                raise RedirectedError(
                    auth.redirect_uri, "consent_required", "Consent required.", auth.state
                )
            return _consent_page(request, auth, account, params)
    except (FatalAuthorizationError, OAuthError) as error:
        return page(request, "error.html", status=400, message=str(error))
    except RedirectedError as error:
        return _redirect(error.location(issuer), post=False)


@router.post("/oauth/authorize")
async def decide(request: Request) -> Response:
    """Allow (a code) or deny (``access_denied``), for the signed-in user who saw the page."""
    services = services_of(request)
    issuer = issuer_of(request, services)
    form = await request.form()
    params = {name: str(form[name]) for name in FORWARDED if name in form}
    try:
        with services.database.unit_of_work(write=True) as session:
            auth = validate(RegisteredClients(session), params, parse_scopes)
            login = current_login(request, session)
            if login is None or not csrf_valid(request, "consent", str(form.get("csrf_token", ""))):
                raise FatalAuthorizationError(
                    "Your session or form expired. Start again from the application."
                )
            if enrolment_needed(request, session, login.account_id):
                raise FatalAuthorizationError(
                    "Set up two-factor authentication first, then start again."
                )
            if form.get("decision") != "allow":
                raise RedirectedError(
                    auth.redirect_uri, "access_denied", "The user denied access.", auth.state
                )
            return _issue(request, session, auth, login.account_id, post=True)
    except FatalAuthorizationError as error:
        return page(request, "error.html", status=400, message=str(error))
    except RedirectedError as error:
        return _redirect(error.location(issuer), post=True)
