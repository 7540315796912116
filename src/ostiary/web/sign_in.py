"""Completing a browser sign-in, and the step between the password and the second factor.

After the password (or before a passkey) nothing is signed in yet: an account with a second
factor gets a short-lived *pending sign-in* cookie instead of a session, and is sent to
``/login/second-factor``. The cookie holds the account id, where to go next and when the
password was proved, with an HMAC by the server's hasher (as the session cookie,
``web.browser``); it lasts :data:`PENDING_LIFETIME`, and proves only that the password was
right: it opens no session and reaches no page but the second-factor step.

:func:`finish_sign_in` is the one way a browser becomes signed in (password alone, password and
second factor, passkey): the login recorded, the session opened, its cookie set, the pending
cookie cleared, and a 303 to ``next`` (or to enrolment while the server requires a second factor
and the account has none, ``OSTIARY_REQUIRE_2FA``).
"""

from __future__ import annotations

import base64
import binascii
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from ostiary.accounts.errors import DISABLED_MESSAGE
from ostiary.accounts.models import Account
from ostiary.accounts.sessions import open_session
from ostiary.errors import Audit, Unauthorized
from ostiary.second_factors.queries import enrolled_factors
from ostiary.unit import Unit
from ostiary.web.browser import SESSION_LIFETIME, safe_next, see_other, set_session_cookie
from ostiary.web.context import services_of

PENDING_COOKIE = "ostiary_pending_sign_in"
PENDING_LIFETIME = timedelta(minutes=5)
SECOND_FACTOR_PATH = "/login/second-factor"
ENROL_PATH = "/dashboard/two-factor"
_CLOCK_SKEW = timedelta(seconds=30)  # between workers (and nodes) reading the cookie


@dataclass(frozen=True, slots=True)
class PendingSignIn:
    """A password proved for ``account_id`` at ``started_at``; the second factor still due."""

    account_id: str
    next: str
    started_at: datetime


def _mac(request: Request, payload: str) -> str:
    return services_of(request).hasher.hash(f"pending-sign-in:{payload}")


def _encode(text: str) -> str:
    return base64.urlsafe_b64encode(text.encode()).decode("ascii").rstrip("=")


def _decode(text: str) -> str:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)).decode()


def pending_sign_in(request: Request) -> PendingSignIn | None:
    """The browser's pending sign-in, when its cookie is genuine and under five minutes old."""
    value = request.cookies.get(PENDING_COOKIE, "")
    payload, _, mac = value.rpartition(".")
    if not payload or not hmac.compare_digest(mac, _mac(request, payload)):
        return None
    try:
        account_id, started, target = payload.split(".")
        started_at = datetime.fromtimestamp(int(started), UTC)
        next_path = _decode(target)
    except (ValueError, binascii.Error, UnicodeDecodeError, OverflowError):
        return None
    now = datetime.now(UTC)
    if not now - PENDING_LIFETIME < started_at <= now + _CLOCK_SKEW:
        return None
    return PendingSignIn(account_id, safe_next(next_path), started_at)


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def begin_second_factor(request: Request, account_id: str, next: str) -> Response:
    """The password is proved: set the pending sign-in cookie and 303 to the second-factor
    step (which returns to ``next`` once it is done)."""
    started = str(int(datetime.now(UTC).timestamp()))
    payload = ".".join((account_id, started, _encode(safe_next(next))))
    response = see_other(SECOND_FACTOR_PATH)
    response.set_cookie(
        PENDING_COOKIE,
        f"{payload}.{_mac(request, payload)}",
        max_age=int(PENDING_LIFETIME.total_seconds()),
        httponly=True,
        secure=_secure(request),
        samesite="lax",
        path="/",
    )
    return response


def enrolment_needed(request: Request, session: Session, account_id: str) -> bool:
    """Whether the server requires a second factor (``OSTIARY_REQUIRE_2FA``) and the account
    has none: it must enrol before anything else."""
    if not services_of(request).settings.require_2fa:
        return False
    return not enrolled_factors(session, account_id)


def enrolment_url(next: str = "/") -> str:
    """The dashboard's enrolment page, returning to ``next`` when done."""
    target = safe_next(next)
    return ENROL_PATH if target == "/" else f"{ENROL_PATH}?{urlencode({'next': target})}"


def finish_sign_in(
    request: Request, unit: Unit, account_id: str, *, method: str, next: str
) -> Response:
    """Sign the browser in, in the request's transaction: the login time recorded, a session
    opened (``method`` — ``password``, ``totp``, ``recovery-code``, ``passkey`` — named in its
    description), its cookie set, the pending cookie cleared, and a 303 to ``next``."""
    account = unit.session.get(Account, account_id)
    if account is None:  # deleted meanwhile
        raise Unauthorized("Invalid credentials provided.")
    if account.disabled_at is not None:
        # A passkey sign-in never passes the password check that refuses a disabled account,
        # and a second factor may be given after an administrator disabled it.
        failure = "auth:passkey:failure" if method == "passkey" else "auth:second-factor:failure"
        raise Unauthorized(
            DISABLED_MESSAGE,
            audit=Audit(failure, actor_id=account_id, details={"reason": "disabled"}),
        )
    account.last_login = unit.now()
    description = "Browser login" if method == "password" else f"Browser login ({method})"
    login = open_session(
        unit,
        account_id=account_id,
        description=description,
        expires_at=unit.now() + SESSION_LIFETIME,
    )
    target = safe_next(next)
    if enrolment_needed(request, unit.session, account_id):
        target = enrolment_url(target)
    response = see_other(target)
    set_session_cookie(request, response, login.id)
    response.delete_cookie(PENDING_COOKIE, path="/")
    return response
