"""The pages of account recovery and verification: "Forgot password?" (asks the email, answers
the same whatever it is), the reset page a mailed link opens (the new password twice), and the
page a verification link opens (a button that confirms). A link opens a form and only the
form's POST spends it, so a mail scanner that follows links spends nothing.

Unauthenticated work is bounded: "Forgot password?" spends the address's budget of
unauthenticated requests (``login_requests``) and an account is sent at most a few links an
hour (``accounts.rules.LINKS_PER_WINDOW``). After a commit that queued mail, this worker's
sending job is woken so that the link arrives in seconds (``periodic.Nudge``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ostiary.accounts.rules import MIN_PASSWORD_LENGTH, validate_password
from ostiary.errors import InvalidParams, OstiaryError, RateLimited
from ostiary.recovery.services import (
    RESET_MINUTES,
    confirm_email,
    request_password_reset,
    reset_account,
    reset_password,
    verification_link,
)
from ostiary.second_factors.queries import enrolled_factors
from ostiary.web.browser import csrf_token, csrf_valid, page
from ostiary.web.context import mailroom_of, request_context, services_of, unit_of
from ostiary.web.errors import persist_audit

router = APIRouter(tags=["pages"], include_in_schema=False)
FORGOT, RESET, VERIFY = "forgot", "reset", "verify"


def _forgot_page(request: Request, status: int = 200, **context: object) -> Response:
    return page(
        request,
        "forgot_password.html",
        status=status,
        mail_on=services_of(request).mail_seal is not None,
        csrf=csrf_token(request, FORGOT),
        minutes=RESET_MINUTES,
        **context,
    )


@router.get("/forgot-password")
async def forgot_password_page(request: Request) -> Response:
    """The form asking for the account's email, or why there is none (no mail on this
    server: an administrator resets the password)."""
    return _forgot_page(request)


@router.post("/forgot-password")
async def forgot_password(request: Request) -> Response:
    """Mail a reset link if the email is an account's; the answer is the same either way."""
    services = services_of(request)
    form = await request.form()
    email = str(form.get("email", "")).strip()[:254]
    if services.mail_seal is None:
        return _forgot_page(request)
    if not csrf_valid(request, FORGOT, str(form.get("csrf_token", ""))):
        return _forgot_page(request, 400, error="Your form expired. Please try again.")
    try:
        services.login_requests.spend(request_context(request).ip)
    except RateLimited as error:
        refused = _forgot_page(
            request, 429, error="Too many requests from this address. Please try again later."
        )
        refused.headers["Retry-After"] = str(error.retry_after)
        return refused
    if email:
        with services.database.unit_of_work(write=True) as session:
            request_password_reset(unit_of(request, session), mailroom_of(request), email)
        services.sending.wake()
    return _forgot_page(request, sent=True, email=email)


def _reset_page(request: Request, token: str, status: int = 200, **context: object) -> Response:
    return page(
        request,
        "reset_password.html",
        status=status,
        token=token,
        csrf=csrf_token(request, RESET),
        min_length=MIN_PASSWORD_LENGTH,
        **context,
    )


def _link_problem(request: Request, error: OstiaryError) -> Response:
    return page(request, "link_problem.html", status=400, message=error.message)


@router.get("/reset-password")
async def reset_password_page(request: Request, token: str = "") -> Response:
    """The new-password form of a usable reset link."""
    services = services_of(request)
    try:
        with services.database.unit_of_work(write=False) as session:
            email = reset_account(unit_of(request, session), token).email
    except OstiaryError as error:
        return _link_problem(request, error)
    return _reset_page(request, token, email=email)


@router.post("/reset-password")
async def reset_password_submit(request: Request) -> Response:
    """Set the new password with the link (once), then say what it did and show the new API
    key once."""
    services = services_of(request)
    form = await request.form()
    token = str(form.get("token", ""))
    password = str(form.get("password", ""))
    if not csrf_valid(request, RESET, str(form.get("csrf_token", ""))):
        return _reset_page(request, token, 400, error="Your form expired. Please try again.")
    try:
        with services.database.unit_of_work(write=False) as session:
            email = reset_account(unit_of(request, session), token).email
    except OstiaryError as error:
        return _link_problem(request, error)
    try:
        if password != str(form.get("password_confirmation", "")):
            raise InvalidParams("password", "The two passwords differ.")
        validate_password(password, email)
        # Hashed in the password pool, off the event loop, outside any transaction.
        new_hash = await services.passwords.new_hash(password)
        with services.database.unit_of_work(write=True) as session:
            issued = reset_password(
                unit_of(request, session), mailroom_of(request), token, new_hash
            )
            # Behind a second factor the mailbox alone must yield no credential: the key is
            # regenerated but not shown; its owner signs in, with the factor, and makes another.
            guarded = services.settings.require_2fa or enrolled_factors(
                session, issued.authorization.account_id
            )
            new_key = None if guarded else issued.access.plaintext
    except RateLimited as error:
        persist_audit(request, error)
        return _reset_page(request, token, 429, email=email, error=error.message)
    except InvalidParams as error:
        if error.field == "token":
            return _link_problem(request, error)
        return _reset_page(request, token, 422, email=email, error=error.message)
    services.sending.wake()
    return page(request, "password_reset.html", email=email, new_key=new_key)


@router.get("/verify-email")
async def verify_email_page(request: Request, token: str = "") -> Response:
    """The confirmation button of a usable verification link."""
    services = services_of(request)
    try:
        with services.database.unit_of_work(write=False) as session:
            email = verification_link(unit_of(request, session), token).email
    except OstiaryError as error:
        return _link_problem(request, error)
    return page(
        request, "verify_email.html", token=token, email=email, csrf=csrf_token(request, VERIFY)
    )


@router.post("/verify-email")
async def verify_email(request: Request) -> Response:
    """Spend the verification link: the address is verified (and becomes the account's when it
    was a change; the old address is told)."""
    services = services_of(request)
    form = await request.form()
    token = str(form.get("token", ""))
    if not csrf_valid(request, VERIFY, str(form.get("csrf_token", ""))):
        return page(
            request,
            "verify_email.html",
            status=400,
            token=token,
            csrf=csrf_token(request, VERIFY),
            error="Your form expired. Please try again.",
        )
    try:
        with services.database.unit_of_work(write=True) as session:
            email = confirm_email(unit_of(request, session), mailroom_of(request), token).email
    except OstiaryError as error:
        return _link_problem(request, error)
    services.sending.wake()
    return page(request, "verify_email.html", verified=True, email=email)
