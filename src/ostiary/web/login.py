"""The login page: email and password, CSRF-protected, throttled (R23); on success a login
session row and its signed cookie, then back to where the user was going (a local path only).

Rule numbers refer to docs/oauth-server-rules.md.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ostiary.accounts.errors import DISABLED_MESSAGE
from ostiary.accounts.logins import sign_in
from ostiary.errors import RateLimited, ServiceUnavailable, Unauthorized
from ostiary.web.browser import (
    SESSION_LIFETIME,
    csrf_token,
    csrf_valid,
    page,
    safe_next,
    see_other,
    set_session_cookie,
)
from ostiary.web.context import request_context, services_of, unit_of
from ostiary.web.errors import persist_audit

router = APIRouter(tags=["pages"], include_in_schema=False)


@router.get("/login")
async def login_page(request: Request, next: str = "/") -> Response:
    """The login form."""
    return page(
        request,
        "login.html",
        csrf=csrf_token(request, "login"),
        next=safe_next(next),
        open_signup=services_of(request).settings.signup == "open",
    )


@router.post("/login")
async def login(request: Request) -> Response:
    """Check the credentials; sign the browser in; 303 to ``next``."""
    form = await request.form()
    email = str(form.get("email", "")).strip()
    password = str(form.get("password", ""))
    target = safe_next(str(form.get("next", "/")))

    def again(message: str, status: int) -> Response:
        return page(
            request,
            "login.html",
            status=status,
            error=message,
            email=email,
            csrf=csrf_token(request, "login"),
            next=target,
            open_signup=services_of(request).settings.signup == "open",
        )

    if not csrf_valid(request, "login", str(form.get("csrf_token", ""))):
        return again("Your form expired. Please try again.", 400)
    services = services_of(request)
    context = request_context(request)
    try:
        proof = await services.passwords.login(context, email, password)
        with services.database.unit_of_work(write=True) as session:
            unit = unit_of(request, session)
            login_session = sign_in(
                unit, proof, description="Browser login", expires_at=unit.now() + SESSION_LIFETIME
            )
            session_id = login_session.id
    except Unauthorized as error:
        persist_audit(request, error)
        # Only whoever gave the right password learns that the account is disabled.
        disabled = error.message == DISABLED_MESSAGE
        return again(
            DISABLED_MESSAGE if disabled else "That email and password do not match an account.",
            403 if disabled else 401,
        )
    except RateLimited as error:
        response = again("Too many attempts. Please wait a few minutes and try again.", 429)
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    except ServiceUnavailable as error:
        response = again("Sign-in is unavailable right now. Please try again shortly.", 503)
        response.headers["Retry-After"] = str(error.retry_after)
        return response
    response = see_other(target)
    set_session_cookie(request, response, session_id)
    return response
