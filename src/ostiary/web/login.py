"""The login page: email and password, CSRF-protected, throttled (R23); on success a login
session row and its signed cookie, then back to where the user was going (a local path only).

An account with a second factor gets no session from its password: the password opens the
second-factor step (``/login/second-factor``, ``web.sign_in``), which asks for a TOTP code or a
recovery code, throttled per account as passwords are, and then signs the browser in.

Rule numbers refer to docs/oauth-server-rules.md.
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ostiary.accounts.errors import DISABLED_MESSAGE
from ostiary.accounts.passwords import record_login
from ostiary.errors import RateLimited, ServiceUnavailable, Unauthorized
from ostiary.second_factors.errors import CodesLocked
from ostiary.second_factors.queries import enrolled_factors
from ostiary.second_factors.services import check_code
from ostiary.web.browser import csrf_token, csrf_valid, page, safe_next, see_other
from ostiary.web.context import request_context, services_of, unit_of
from ostiary.web.errors import persist_audit
from ostiary.web.sign_in import (
    SECOND_FACTOR_PATH,
    begin_second_factor,
    finish_sign_in,
    pending_sign_in,
)

router = APIRouter(tags=["pages"], include_in_schema=False)


def _come_back_later(
    again: Callable[[str, int], Response], error: RateLimited | ServiceUnavailable
) -> Response:
    """The form again, throttled (429) or unavailable (503), with its ``Retry-After``."""
    if isinstance(error, CodesLocked):
        response = again(error.message, 429)
    elif isinstance(error, RateLimited):
        response = again("Too many attempts. Please wait a few minutes and try again.", 429)
    else:
        response = again("Sign-in is unavailable right now. Please try again shortly.", 503)
    response.headers["Retry-After"] = str(error.retry_after)
    return response


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
            record_login(unit, proof)
            if enrolled_factors(session, proof.account_id):
                response = begin_second_factor(request, proof.account_id, target)
            else:
                response = finish_sign_in(
                    request, unit, proof.account_id, method="password", next=target
                )
    except Unauthorized as error:
        persist_audit(request, error)
        # Only whoever gave the right password learns that the account is disabled.
        disabled = error.message == DISABLED_MESSAGE
        return again(
            DISABLED_MESSAGE if disabled else "That email and password do not match an account.",
            403 if disabled else 401,
        )
    except (RateLimited, ServiceUnavailable) as error:
        return _come_back_later(again, error)
    return response


@router.get(SECOND_FACTOR_PATH)
async def second_factor_page(request: Request, recovery: bool = False) -> Response:
    """The second-factor step: a code from the authenticator app, or a recovery code."""
    pending = pending_sign_in(request)
    if pending is None:
        return see_other("/login")
    return page(
        request,
        "second_factor.html",
        csrf=csrf_token(request, "second-factor"),
        recovery=recovery,
        factors=_factors_of(request, pending.account_id),
    )


def _factors_of(request: Request, account_id: str) -> frozenset[str]:
    """The second factors the step offers: a code field for TOTP, a button for a passkey."""
    with services_of(request).database.unit_of_work(write=False) as session:
        return enrolled_factors(session, account_id)


@router.post(SECOND_FACTOR_PATH)
async def second_factor(request: Request) -> Response:
    """Check the code (throttled, each code once); sign the browser in; 303 to ``next``."""
    form = await request.form()
    code = str(form.get("code", "")).strip()
    recovery = form.get("recovery") == "yes"

    def again(message: str, status: int) -> Response:
        return page(
            request,
            "second_factor.html",
            status=status,
            error=message,
            csrf=csrf_token(request, "second-factor"),
            recovery=recovery,
            factors=_factors_of(request, pending.account_id) if pending else frozenset(),
        )

    pending = pending_sign_in(request)
    if pending is None:
        return see_other("/login")
    if not csrf_valid(request, "second-factor", str(form.get("csrf_token", ""))):
        return again("Your form expired. Please try again.", 400)
    if not code:
        return again("Enter the code.", 400)
    services = services_of(request)
    try:
        with services.database.unit_of_work(write=True) as session:
            unit = unit_of(request, session)
            accepted = check_code(unit, services.failure_throttle, pending.account_id, code)
            response = finish_sign_in(
                request, unit, pending.account_id, method=accepted.kind, next=pending.next
            )
    except Unauthorized as error:
        persist_audit(request, error)
        return again("That code is not right, or it was used already.", 401)
    except (RateLimited, ServiceUnavailable) as error:
        return _come_back_later(again, error)
    return response
