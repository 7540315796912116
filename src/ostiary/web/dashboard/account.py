"""Signing up, signing out, and the account page: name, email and password."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.datastructures import FormData

from ostiary.accounts.rules import validate_password
from ostiary.accounts.services import update_account
from ostiary.accounts.sessions import open_session
from ostiary.errors import InvalidParams, OstiaryError, RateLimited, Unauthorized
from ostiary.recovery.services import request_email_change, send_verification
from ostiary.tokens.owners import change_password, close_session, create_account
from ostiary.unit import Unit
from ostiary.web.browser import (
    SESSION_COOKIE,
    SESSION_LIFETIME,
    csrf_token,
    csrf_valid,
    current_login,
    page,
    see_other,
    set_session_cookie,
)
from ostiary.web.context import mailroom_of, request_context, services_of, unit_of
from ostiary.web.dashboard.pages import (
    CSRF_PURPOSE,
    PREFIX,
    Visitor,
    act,
    confirm_identity,
    done,
    field,
    render,
    show,
)
from ostiary.web.errors import persist_audit

router = APIRouter(include_in_schema=False)
ACCOUNT = f"{PREFIX}/account"


@router.get("/")
async def home(request: Request) -> Response:
    """The dashboard for a signed-in browser; the login page otherwise."""
    return see_other(ACCOUNT)


@router.get(PREFIX)
async def dashboard(request: Request) -> Response:
    """The dashboard starts at the account page."""
    return see_other(ACCOUNT)


def _signup_page(request: Request, status: int = 200, **context: object) -> Response:
    open_signup = services_of(request).settings.signup == "open"
    return page(
        request,
        "dashboard/signup.html",
        status=status if open_signup else 403,
        open_signup=open_signup,
        csrf=csrf_token(request, "signup"),
        **context,
    )


@router.get("/signup")
async def signup_page(request: Request) -> Response:
    """The sign-up form, or a note that accounts are by invitation."""
    return _signup_page(request)


@router.post("/signup")
async def signup(request: Request) -> Response:
    """Create an account, sign it in, and show its API key once."""
    services = services_of(request)
    if services.settings.signup != "open":
        return _signup_page(request)
    form = await request.form()
    email, name = field(form, "email"), field(form, "name")
    password = str(form.get("password", ""))
    if not csrf_valid(request, "signup", str(form.get("csrf_token", ""))):
        return _signup_page(request, 400, error="Your form expired. Please try again.", email=email)
    context = request_context(request)
    try:
        # Sign-up takes no credentials and creates rows: the same per-address budget as the
        # other unauthenticated creators (the heroku CLI's and the device flow's logins).
        services.login_requests.spend(context.ip)
        if password != str(form.get("password_confirmation", "")):
            raise InvalidParams("password", "The two passwords differ.")
        validate_password(password, email)
        password_hash = await services.passwords.new_hash(password)
        with services.database.unit_of_work(write=True) as session:
            unit = unit_of(request, session)
            created = create_account(
                unit, email=email, password_hash=password_hash, name=name or None
            )
            # The address is proved by following the link this mails (none without mail).
            send_verification(unit, mailroom_of(request), created.account)
            login = open_session(
                unit,
                account_id=created.account.id,
                description="Browser login",
                expires_at=unit.now() + SESSION_LIFETIME,
            )
            visitor_email, key = created.account.email, created.api_key.plaintext
            login_id = login.id
    except RateLimited as error:
        refused = _signup_page(
            request,
            429,
            error="Too many sign-ups from this address. Please wait a minute and try again.",
            email=email,
            name=name,
        )
        refused.headers["Retry-After"] = str(error.retry_after)
        return refused
    except OstiaryError as error:
        persist_audit(request, error)
        return _signup_page(request, 422, error=error.message, email=email, name=name)
    services.sending.wake()
    response = page(
        request,
        "dashboard/welcome.html",
        email=visitor_email,
        # While the server requires a second factor, no credential before one is enrolled: the
        # key is regenerated on the API key page afterwards.
        api_key=None if services.settings.require_2fa else key,
        next=ACCOUNT,
        mail_on=services.mail_seal is not None,
    )
    set_session_cookie(request, response, login_id)
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    """End this browser's session on the server (its row goes, and the authorizations made
    through it are revoked), then forget the cookie. Without the form's CSRF token nothing
    changes: a page elsewhere cannot sign the visitor out (403, and a real sign-out button)."""
    form = await request.form()
    services = services_of(request)
    if not csrf_valid(request, CSRF_PURPOSE, str(form.get("csrf_token", ""))):
        with services.database.unit_of_work(write=False) as session:
            signed_in = current_login(request, session) is not None
        return page(
            request,
            "logout.html",
            status=403,
            signed_in=signed_in,
            csrf=csrf_token(request, CSRF_PURPOSE),
        )
    with services.database.unit_of_work(write=True) as session:
        login = current_login(request, session)
        if login is not None:
            close_session(unit_of(request, session), login, actor_id=login.account_id)
    response = see_other("/login")
    response.delete_cookie(SESSION_COOKIE, path="/")
    return response


@router.get(ACCOUNT)
async def account_page(request: Request) -> Response:
    """Name, email and password."""
    return show(request, lambda session, visitor: render(request, visitor, "account.html"))


@router.post(f"{ACCOUNT}/profile")
async def update_profile(request: Request) -> Response:
    """Change the name and the email address."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        name = field(form, "name")
        if len(name) > 200:
            raise InvalidParams("name", "The name is too long.")
        update_account(unit, visitor.account, changes={"name": name or None})
        email = field(form, "email")
        if email.lower() != visitor.account.email:
            confirm_identity(visitor)
            change = request_email_change(unit, mailroom_of(request), visitor.account, email)
            if change.pending:
                return done(
                    ACCOUNT,
                    f"Your profile was saved. To change your email, follow the link we sent to "
                    f"{change.email}; until then it stays {visitor.account.email}.",
                )
        return done(ACCOUNT, "Your profile was saved.")

    response = await act(request, ACCOUNT, work, proof_field="password")
    services_of(request).sending.wake()
    return response


@router.post(f"{ACCOUNT}/verification")
async def resend_verification(request: Request) -> Response:
    """Mail the account's address a new verification link (the banner's "resend")."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        mailroom = mailroom_of(request)
        if not mailroom.enabled:
            return done(ACCOUNT, "This server sends no mail: ask its administrator.")
        send_verification(unit, mailroom, visitor.account)
        return done(ACCOUNT, f"A new verification link is on its way to {visitor.account.email}.")

    response = await act(request, ACCOUNT, work)
    services_of(request).sending.wake()
    return response


@router.post(f"{ACCOUNT}/password")
async def update_password(request: Request) -> Response:
    """Change the password (the current one is required). Every other session ends and the API
    key is regenerated, as Heroku does; the page says so and shows the new key once."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        if not visitor.password_proved or visitor.new_password_hash is None:
            raise Unauthorized("Enter your current password to change it.")
        new_key = change_password(
            unit,
            visitor.account,
            new_hash=visitor.new_password_hash,
            keep_session_id=visitor.login.id,
        )
        visitor.login.authenticated_at = unit.now()
        return render(request, visitor, "password_changed.html", new_key=new_key.access.plaintext)

    return await act(
        request,
        ACCOUNT,
        work,
        proof_field="current_password",
        replacement_field="new_password",
    )
