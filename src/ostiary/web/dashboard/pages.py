"""What every dashboard page shares: the signed-in visitor, one transaction per request, CSRF on
every form, recent re-authentication before secrets are shown or replaced, flash messages, and
rendering inside the dashboard's navigation.

Handlers are small functions of ``(session, visitor)`` (pages, which only read) or
``(unit, visitor, form)`` (actions, which hand the request's :class:`~ostiary.unit.Unit` to the
services they call) run by :func:`show` and :func:`act`; a domain error in an action comes back
to the page it was sent from as a flash message, its audit event kept.

Re-authentication accepts the password or, for an account with an authenticator app, a current
TOTP code (``second_factor_code``), throttled and recorded as any second-factor attempt. While
the server requires a second factor (``OSTIARY_REQUIRE_2FA``), an account without one sees only
the enrolment page until it has one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from urllib.parse import quote, unquote, urlencode

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from ostiary.accounts.errors import TooManyLinks
from ostiary.accounts.models import Account, LoginSession
from ostiary.accounts.rules import validate_password
from ostiary.accounts.sessions import mark_seen
from ostiary.alerts.queries import unseen_count
from ostiary.clock import utcnow
from ostiary.errors import InvalidParams, NotFound, OstiaryError, RateLimited, Unauthorized
from ostiary.events import RequestContext
from ostiary.scopes import ALL_SCOPES, MEANINGS
from ostiary.second_factors.queries import enrolled_factors
from ostiary.second_factors.services import check_code
from ostiary.tokens.models import Authorization
from ostiary.tokens.services import regenerate
from ostiary.unit import Unit
from ostiary.web.browser import csrf_token, csrf_valid, current_login, page, see_other
from ostiary.web.context import request_context, services_of, unit_of
from ostiary.web.errors import persist_audit
from ostiary.web.sign_in import ENROL_PATH, enrolment_url

PREFIX = "/dashboard"
RECENT_AUTHENTICATION = timedelta(minutes=5)
LAST_SEEN_RESOLUTION = timedelta(minutes=1)
FLASH_COOKIE = "ostiary_flash"
CODE_FIELD = "second_factor_code"
ENROLMENT_PAGES = (ENROL_PATH, f"{PREFIX}/passkeys")
CSRF_PURPOSE = "dashboard"

# A signed-in owner acts with every scope: what the dashboard creates is bounded only by the
# scopes chosen on the form.
OWNER_SCOPES = frozenset({"global"})
SCOPE_CHOICES = [(scope, MEANINGS[scope]) for scope in sorted(ALL_SCOPES)]

NAVIGATION = [
    ("Account", f"{PREFIX}/account"),
    ("API key", f"{PREFIX}/api-key"),
    ("Tokens", f"{PREFIX}/tokens"),
    ("Token policy", f"{PREFIX}/token-policy"),
    ("Applications", f"{PREFIX}/applications"),
    ("Authorized applications", f"{PREFIX}/authorized-applications"),
    ("Sessions", f"{PREFIX}/sessions"),
    ("Two-factor authentication", ENROL_PATH),
    ("Passkeys", f"{PREFIX}/passkeys"),
    ("Apps", f"{PREFIX}/apps"),
    ("Alerts", f"{PREFIX}/alerts"),
    ("Notifications", f"{PREFIX}/notifications"),
    ("Activity", f"{PREFIX}/activity"),
    ("Webhooks", f"{PREFIX}/webhooks"),
]


@dataclass
class Visitor:
    """The signed-in account and the browser session it came in with.

    ``password_proved`` is true when the submitted form carried the account's password and
    :func:`act` verified it (before the transaction), ``code_proved`` when it carried a current
    TOTP code instead; ``new_password_hash`` is the hash of the form's new password, when
    :func:`act` was asked to make one. ``factors`` are the account's second factors.
    """

    account: Account
    login: LoginSession
    context: RequestContext
    factors: frozenset[str] = frozenset()
    password_proved: bool = False
    code_proved: bool = False
    new_password_hash: str | None = None
    # Shown as a notice on every page until they are seen (ostiary.alerts).
    unseen_alerts: int = 0

    @property
    def recently_authenticated(self) -> bool:
        """Whether the password was proved in this session within the last five minutes."""
        proved = self.login.authenticated_at
        return proved is not None and utcnow() - proved < RECENT_AUTHENTICATION


class SignInRequired(Exception):
    """No live session: the visitor goes to the login page and comes back."""


class EnrolmentRequired(Exception):
    """The server requires a second factor and the account has none: enrol first."""


def _visitor(request: Request, session: Session) -> Visitor:
    login = current_login(request, session)
    account = session.get(Account, login.account_id) if login is not None else None
    if login is None or account is None:
        raise SignInRequired
    factors = enrolled_factors(session, account.id)
    path = request.url.path
    # A passkey is a second factor too: its page is open to an account enrolling.
    enrolling = any(path == place or path.startswith(f"{place}/") for place in ENROLMENT_PAGES)
    if not factors and not enrolling and services_of(request).settings.require_2fa:
        raise EnrolmentRequired
    return Visitor(
        account,
        login,
        request_context(request),
        factors=factors,
        unseen_alerts=unseen_count(session, account.id),
    )


def _seen_long_ago(visitor: Visitor) -> bool:
    return utcnow() - visitor.login.updated_at >= LAST_SEEN_RESOLUTION


def confirm_identity(visitor: Visitor) -> None:
    """Let a sensitive action through when the password was proved recently, or with this form
    (the password or a current TOTP code, which counts as proving it again)."""
    if visitor.password_proved or visitor.code_proved:
        visitor.login.authenticated_at = utcnow()
        return
    if not visitor.recently_authenticated:
        raise Unauthorized("Enter your current password to confirm it is you.")


def new_token(unit: Unit, authorization: Authorization, grace_period: int = 0) -> str:
    """Replace an authorization's token (the old one stops at once, or retires for
    ``grace_period`` seconds); the new plaintext, to show once. Asks for nothing: callers
    confirm the visitor's identity first."""
    return regenerate(unit, authorization, grace_period).access.plaintext


def render(
    request: Request, visitor: Visitor, template: str, *, status: int = 200, **context: Any
) -> Response:
    """A dashboard page: navigation, the flash message, and a CSRF token for its forms."""
    flash = request.cookies.get(FLASH_COOKIE)
    context.setdefault("flash", unquote(flash) if flash else None)
    response = page(
        request,
        f"dashboard/{template}",
        status=status,
        visitor=visitor,
        navigation=NAVIGATION,
        current=request.url.path,
        csrf=csrf_token(request, CSRF_PURPOSE),
        needs_password=not visitor.recently_authenticated,
        **context,
    )
    if flash:
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def done(location: str, message: str) -> Response:
    """303 to ``location`` with a message to show there once."""
    response = see_other(location)
    response.set_cookie(
        FLASH_COOKIE, quote(message), max_age=60, httponly=True, samesite="lax", path="/"
    )
    return response


def _sign_in(request: Request) -> Response:
    target = request.url.path if request.method == "GET" else PREFIX
    return see_other("/login?" + urlencode({"next": target}))


def _enrol(request: Request) -> Response:
    target = request.url.path if request.method == "GET" else PREFIX
    return see_other(enrolment_url(target))


def show(request: Request, build: Callable[[Session, Visitor], Response]) -> Response:
    """Run a page in one read transaction; "last seen" is written afterwards, when due."""
    database = services_of(request).database
    try:
        with database.unit_of_work(write=False) as session:
            visitor = _visitor(request, session)
            try:
                response = build(session, visitor)
            except NotFound as error:
                response = render(
                    request, visitor, "problem.html", status=404, message=error.message
                )
    except SignInRequired:
        return _sign_in(request)
    except EnrolmentRequired:
        return _enrol(request)
    # "Last seen" for the sessions page, at most once a minute, so that reading pages rarely
    # writes.
    if _seen_long_ago(visitor):
        with database.unit_of_work(write=True) as session:
            mark_seen(unit_of(request, session), visitor.login.id)
    return response


async def _prove_password(request: Request, password: str, *, changing: bool) -> None:
    """Check the signed-in visitor's password outside any transaction (throttled, hashed in the
    pool); raises Unauthorized when it is wrong, SignInRequired when nobody is signed in."""
    services = services_of(request)
    with services.database.unit_of_work(write=False) as session:
        account = _visitor(request, session).account
    if changing:
        failure, action = "The current password is not right.", "account:password:failure"
    else:
        failure = "Enter your current password to confirm it is you."
        action = "auth:reauthentication:failure"
    await services.passwords.confirm(
        request_context(request), account, password, failure=failure, action=action
    )


def _prove_code(request: Request, code: str) -> bool:
    """Accept a current TOTP code of the signed-in visitor (not a recovery code: those are for
    a lost device), in a transaction of its own, so the step it used stays used; raises
    WrongCode (recorded, throttled) when it is not right."""
    services = services_of(request)
    with services.database.unit_of_work(write=True) as session:
        visitor = _visitor(request, session)
        check_code(
            unit_of(request, session),
            services.failure_throttle,
            visitor.account.id,
            code,
            recovery=False,
        )
    return True


async def _hash_new_password(request: Request, form: FormData, name: str) -> str:
    new = str(form.get(name, ""))
    if new != str(form.get(f"{name}_confirmation", "")):
        raise InvalidParams(name, "The two new passwords differ.")
    services = services_of(request)
    with services.database.unit_of_work(write=False) as session:
        email = _visitor(request, session).account.email
    validate_password(new, email)
    return await services.passwords.new_hash(new)


async def act(
    request: Request,
    back: str,
    work: Callable[[Unit, Visitor, FormData], Response],
    *,
    proof_field: str | None = None,
    replacement_field: str | None = None,
) -> Response:
    """Run a form's action in one transaction (the unit ``work`` is given), after checking its
    CSRF token. A domain error returns to ``back`` with its message.

    With ``proof_field``, a password typed there is verified first, outside the transaction
    (``visitor.password_proved``); with ``replacement_field`` too, the new password (and its
    ``_confirmation``) is validated and hashed once the current one is proved. Without a
    replacement, a current TOTP code in ``second_factor_code`` proves it is the visitor as
    well as the password does (``visitor.code_proved``).
    """
    form = await request.form()
    if not csrf_valid(request, CSRF_PURPOSE, str(form.get("csrf_token", ""))):
        return done(back, "Your form expired. Please try again.")
    try:
        typed = str(form.get(proof_field, "")) if proof_field else ""
        if typed:
            await _prove_password(request, typed, changing=replacement_field is not None)
        code = field(form, CODE_FIELD) if proof_field and not replacement_field else ""
        code_proved = bool(code) and not typed and _prove_code(request, code)
        new_hash = None
        if replacement_field and typed:
            new_hash = await _hash_new_password(request, form, replacement_field)
        with services_of(request).database.unit_of_work(write=True) as session:
            unit = unit_of(request, session)
            visitor = _visitor(request, session)
            visitor.password_proved = bool(typed)
            visitor.code_proved = code_proved
            visitor.new_password_hash = new_hash
            if _seen_long_ago(visitor):
                mark_seen(unit, visitor.login.id)
            return work(unit, visitor, form)
    except SignInRequired:
        return _sign_in(request)
    except EnrolmentRequired:
        return _enrol(request)
    except TooManyLinks as error:  # a mail budget, not a password throttle: say which
        return done(back, error.message)
    except RateLimited as error:
        persist_audit(request, error)
        return done(back, "Too many attempts. Please wait a few minutes and try again.")
    except OstiaryError as error:
        persist_audit(request, error)
        return done(back, error.message)


def field(form: FormData, name: str) -> str:
    """A text field of a submitted form, stripped ('' when absent)."""
    value = form.get(name, "")
    return value.strip() if isinstance(value, str) else ""
