"""``/device``: where a user approves a device (RFC 8628 section 3.3) and, at
``/auth/cli/browser/{code}``, the heroku CLI's browser login. Both need a signed-in browser,
name what is asking, where and when it asked (its description is quoted as the requester's own
claim), and take CSRF-protected decisions; wrong codes are throttled (R39).

Rule numbers refer to docs/oauth-server-rules.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from ostiary.accounts.models import Account
from ostiary.clock import utcnow
from ostiary.errors import NotFound, RateLimited, ServiceUnavailable, Unauthorized
from ostiary.oauth2.rfc8628 import display_user_code
from ostiary.scopes import MEANINGS
from ostiary.tokens.device import DeviceKind, decide, find_pending
from ostiary.tokens.models import DeviceAuthorization
from ostiary.web.browser import PAGE_HEADERS, csrf_token, csrf_valid, current_login, page, see_other
from ostiary.web.context import request_context, services_of, unit_of
from ostiary.web.sign_in import enrolment_needed, enrolment_url

router = APIRouter(tags=["pages"], include_in_schema=False)
HEROKU_CLI_NAME = "the Heroku CLI"


def _login_first(path: str) -> Response:
    return RedirectResponse("/login?" + urlencode({"next": path}), 302, headers=PAGE_HEADERS)


def _enrol_first(path: str) -> Response:
    # OSTIARY_REQUIRE_2FA: nothing is approved before the account has a second factor.
    return RedirectResponse(enrolment_url(path), 302, headers=PAGE_HEADERS)


@dataclass(frozen=True, slots=True)
class Origin:
    """Where and when a pending login was requested, and where its approver is now: a link
    someone else sent shows a stranger's address and an older age."""

    address: str | None
    age: str
    viewer_address: str | None


def requested_ago(created_at: datetime, now: datetime) -> str:
    """``"2 minutes ago"``: the age of a request, in the largest whole unit."""
    seconds = max(0, int((now - created_at).total_seconds()))
    for unit, size in (("hour", 3600), ("minute", 60)):
        if seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''} ago"
    return "just now" if seconds < 5 else f"{seconds} seconds ago"


def _approve_page(
    request: Request,
    row: DeviceAuthorization,
    account: Account,
    action: str,
    params: list[tuple[str, str]],
    user_code: str | None,
) -> Response:
    name = row.client.name if row.client else HEROKU_CLI_NAME
    origin = Origin(
        address=row.requester_ip,
        age=requested_ago(row.created_at, utcnow()),
        viewer_address=request_context(request).ip,
    )
    return page(
        request,
        "approve.html",
        verb="Approve",
        redirect_host=None,
        client_name=name,
        email=account.email,
        origin=origin,
        description=row.description,
        user_code=user_code,
        scopes=[(s, MEANINGS[s]) for s in row.scopes],
        action=action,
        params=params,
        csrf=csrf_token(request, "device"),
    )


def _lookup(
    request: Request,
    session_db: Session,
    account_id: str,
    code: str,
    kind: DeviceKind,
    *,
    raw: bool,
) -> DeviceAuthorization:
    """The pending device a code names; a wrong code spends this user's guessing budget."""
    services = services_of(request)
    context = request_context(request)
    with services.failure_throttle.guard(f"device-code:{account_id}", context.ip):
        try:
            return find_pending(unit_of(request, session_db), code, kind=kind, raw=raw)
        except NotFound as error:
            raise Unauthorized(error.message) from error


@router.get("/device")
async def device_page(request: Request, user_code: str = "") -> Response:
    """The code entry form (signed-in users only)."""
    services = services_of(request)
    with services.database.unit_of_work(write=False) as session:
        login = current_login(request, session)
        target = "/device" + (f"?{urlencode({'user_code': user_code})}" if user_code else "")
        if login is None:
            return _login_first(target)
        if enrolment_needed(request, session, login.account_id):
            return _enrol_first(target)
    return page(request, "device.html", user_code=user_code, csrf=csrf_token(request, "device"))


@router.post("/device")
async def device_submit(request: Request) -> Response:
    """A code entered (show what asks), or a decision on it (approve or deny)."""
    form = await request.form()
    code = str(form.get("user_code", ""))
    if not csrf_valid(request, "device", str(form.get("csrf_token", ""))):
        return page(
            request,
            "device.html",
            status=400,
            error="Your form expired. Try again.",
            user_code=code,
            csrf=csrf_token(request, "device"),
        )
    return _decide_or_show(
        request, code, str(form.get("decision", "")), DeviceKind.DEVICE, "/device", raw=False
    )


def _decide_or_show(
    request: Request, code: str, decision: str, kind: DeviceKind, action: str, *, raw: bool
) -> Response:
    services = services_of(request)
    try:
        with services.database.unit_of_work(write=True) as session:
            login = current_login(request, session)
            if login is None:
                return _login_first(action if raw else "/device")
            if enrolment_needed(request, session, login.account_id):
                return _enrol_first(action if raw else "/device")
            row = _lookup(request, session, login.account_id, code, kind, raw=raw)
            account = session.get(Account, login.account_id)
            assert account is not None
            if decision not in ("allow", "deny"):
                shown = (
                    None
                    if raw
                    else display_user_code(code.upper().replace("-", "").replace(" ", ""))
                )
                params = [] if raw else [("user_code", code)]
                return _approve_page(request, row, account, action, params, shown)
            decide(unit_of(request, session), row, account_id=account.id, allow=decision == "allow")
            decided = row.id
        # Committed: wake the poll waiting for this decision, wherever it is held.
        services.wakeups.publish(decided)
        done = "approved" if decision == "allow" else "denied"
        return see_other(f"/device/done?result={done}")
    except Unauthorized:
        return page(
            request,
            "device.html",
            status=400,
            error="That code is unknown or has expired.",
            user_code="" if raw else code,
            csrf=csrf_token(request, "device"),
        )
    except RateLimited as error:
        return _retry_later(request, 429, "Too many wrong codes. Wait a few minutes.", error)
    except ServiceUnavailable as error:
        message = "Codes cannot be checked right now. Please try again shortly."
        return _retry_later(request, 503, message, error)


def _retry_later(
    request: Request, status: int, message: str, error: RateLimited | ServiceUnavailable
) -> Response:
    """The code page again with ``message``, and when to retry (the throttle's refusal, or its
    shared state away)."""
    response = page(
        request, "device.html", status=status, error=message, csrf=csrf_token(request, "device")
    )
    response.headers["Retry-After"] = str(error.retry_after)
    return response


@router.get("/device/done")
async def device_done(request: Request, result: str = "approved") -> Response:
    """Where the browser lands after a decision."""
    if result == "approved":
        return page(
            request,
            "done.html",
            heading="Approved",
            message="You can close this window and return to your device.",
        )
    return page(
        request,
        "done.html",
        heading="Denied",
        message="Nothing was shared. You can close this window.",
    )


@router.get("/auth/cli/browser/{code}")
async def heroku_cli_page(request: Request, code: str) -> Response:
    """The heroku CLI's browser_url: after login, the approval page."""
    return _decide_or_show(
        request, code, "", DeviceKind.HEROKU_CLI, f"/auth/cli/browser/{code}", raw=True
    )


@router.post("/auth/cli/browser/{code}")
async def heroku_cli_decide(request: Request, code: str) -> Response:
    """Approve or deny the heroku CLI's login."""
    form = await request.form()
    if not csrf_valid(request, "device", str(form.get("csrf_token", ""))):
        return page(
            request,
            "done.html",
            status=400,
            heading="Expired",
            message="Your form expired. Run heroku login again.",
        )
    return _decide_or_show(
        request,
        code,
        str(form.get("decision", "")),
        DeviceKind.HEROKU_CLI,
        f"/auth/cli/browser/{code}",
        raw=True,
    )
