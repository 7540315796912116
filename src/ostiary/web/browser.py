"""What browser pages share: the signed session cookie, CSRF tokens, templates and headers.

- The session cookie holds a ``LoginSession`` id and its HMAC; the row is the truth (ending it,
  as ``DELETE /oauth/sessions/{id}`` does, signs the browser out). HttpOnly, Secure, SameSite=Lax.
- CSRF: a random ``ostiary_csrf`` cookie, and in each form an HMAC of it and the form's purpose
  (a double-submit token that an attacker's page can neither read nor forge). It also protects
  the login form, before any session exists.
- Pages send ``Content-Security-Policy`` (``default-src 'self'``, ``frame-ancestors 'none'``),
  ``X-Frame-Options: DENY``, ``Referrer-Policy: no-referrer`` and ``Cache-Control: no-store``
  (rules R29, R30), and load nothing from elsewhere.

Rule numbers refer to docs/oauth-server-rules.md.
"""

from __future__ import annotations

import functools
import hmac
import secrets
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from ostiary.accounts.models import Account, LoginSession
from ostiary.clock import utcnow
from ostiary.web.context import services_of

if TYPE_CHECKING:
    from fastapi.templating import Jinja2Templates

SESSION_COOKIE = "ostiary_session"
CSRF_COOKIE = "ostiary_csrf"
SESSION_LIFETIME = timedelta(days=14)
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; form-action 'self' https: http:; "
        "frame-ancestors 'none'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


@functools.cache
def templates() -> Jinja2Templates:
    """The page templates, loaded with the first page: a worker that serves only the API never
    imports Jinja2 (2 MB of each worker's memory, docs/architecture.md)."""
    from fastapi.templating import Jinja2Templates

    return Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def _sign(request: Request, value: str) -> str:
    hasher = services_of(request).hasher
    return hasher.hash(f"cookie:{value}")


def session_cookie_value(request: Request, session_id: str) -> str:
    """The cookie that names a login session: its id and a MAC of it."""
    return f"{session_id}.{_sign(request, session_id)}"


def current_login(request: Request, session: Session) -> LoginSession | None:
    """The live login session the browser's cookie names, if any."""
    value = request.cookies.get(SESSION_COOKIE, "")
    session_id, _, mac = value.partition(".")
    if not session_id or not hmac.compare_digest(mac, _sign(request, session_id)):
        return None
    login = session.get(LoginSession, session_id)
    if (
        login is None
        or login.ended_at is not None
        or (login.expires_at is not None and login.expires_at <= utcnow())
    ):
        return None
    # A disabled account's browser sessions sign nobody in while it is disabled (its row is
    # then in the session's identity map for the page that follows).
    account = session.get(Account, login.account_id)
    if account is None or account.disabled_at is not None:
        return None
    return login


def _secure(request: Request) -> bool:
    return request.url.scheme == "https"


def set_session_cookie(request: Request, response: Response, session_id: str) -> None:
    """Sign the browser in."""
    response.set_cookie(
        SESSION_COOKIE,
        session_cookie_value(request, session_id),
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        secure=_secure(request),
        samesite="lax",
        path="/",
    )


def csrf_seed(request: Request) -> str:
    """The browser's CSRF cookie value, or a new one (set by :func:`page`)."""
    seed = request.cookies.get(CSRF_COOKIE)
    if not seed:
        seed = request.state.__dict__.setdefault("csrf_seed", secrets.token_urlsafe(24))
    return seed


def csrf_token(request: Request, purpose: str) -> str:
    """The token a form for ``purpose`` carries."""
    return _sign(request, f"csrf:{purpose}:{csrf_seed(request)}")


def csrf_valid(request: Request, purpose: str, token: str | None) -> bool:
    """Whether a submitted form's token matches the browser's CSRF cookie."""
    seed = request.cookies.get(CSRF_COOKIE)
    if not seed or not token:
        return False
    return hmac.compare_digest(token, _sign(request, f"csrf:{purpose}:{seed}"))


def page(request: Request, template: str, status: int = 200, **context: object) -> HTMLResponse:
    """A rendered page with the page security headers and the CSRF cookie."""
    response = templates().TemplateResponse(
        request,
        template,
        {"request": request, **context},
        status_code=status,
        headers=PAGE_HEADERS,
    )
    if not request.cookies.get(CSRF_COOKIE):
        response.set_cookie(
            CSRF_COOKIE,
            csrf_seed(request),
            httponly=True,
            secure=_secure(request),
            samesite="lax",
            path="/",
        )
    return response


def see_other(location: str) -> RedirectResponse:
    """303 after a POST, so the browser follows with GET (rule R28)."""
    return RedirectResponse(location, status_code=303, headers=PAGE_HEADERS)


def safe_next(target: str | None) -> str:
    """A local path to return to after login; anything else (an open redirect) becomes '/'."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target
