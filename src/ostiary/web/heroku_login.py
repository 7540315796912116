"""The heroku CLI's browser login (``heroku login`` with HEROKU_LOGIN_HOST pointed here).

1. ``POST /auth {description}`` gives ``{browser_url, cli_url, token}``.
2. The CLI opens ``browser_url``; the user logs in and approves (``web.device``).
3. The CLI long-polls ``GET cli_url`` with ``Authorization: Bearer <token>`` and gets
   ``{access_token}`` (a new global authorization, valid one year) or ``{error}``.

The long poll waits between short checks without holding a worker thread or a database
connection. The approval wakes it at once, on whichever worker or node holds it
(``ostiary.wakeups``, through Redis when configured); without a wake-up it re-reads the database
every second. Anyone may start a login, so each address has a small
budget of them (``OSTIARY_LOGIN_REQUEST_LIMIT``), an unapproved login expires after five minutes,
and the approval page says where and when it was requested (``web.device``).
"""

from __future__ import annotations

import time

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ostiary.errors import InvalidParams
from ostiary.oauth2.rfc8628 import PollState
from ostiary.tokens.device import (
    DeviceKind,
    complete_heroku_cli_login,
    find_by_device_code,
    poll,
    start,
)
from ostiary.web.context import request_context, services_of, unit_of
from ostiary.web.json_body import parse_json_body

router = APIRouter(tags=["heroku-cli-login"], include_in_schema=False)

POLL_SECONDS = 1.0
LONG_POLL_LIMIT = 600.0


@router.post("/auth")
async def start_login(request: Request) -> JSONResponse:
    """Begin a CLI login; each address has a small budget of these (429 ``rate_limit``)."""
    services = services_of(request)
    context = request_context(request)
    services.login_requests.spend(context.ip)
    try:
        body = parse_json_body(await request.body() or b"{}")
    except InvalidParams:  # as before: an unusable body is an empty one
        body = {}
    description = (
        str(body.get("description") or "Heroku CLI login")[:500]
        if isinstance(body, dict)
        else "Heroku CLI login"
    )
    with services.database.unit_of_work(write=True) as session:
        started = start(
            unit_of(request, session),
            kind=DeviceKind.HEROKU_CLI,
            scopes=["global"],
            description=description,
            high_entropy_user_code=True,
        )
        login_id = started.row.id
    return JSONResponse(
        {
            "browser_url": f"/auth/cli/browser/{started.user_code}",
            "cli_url": f"/auth/cli/callback/{login_id}",
            "token": started.device_code,
        },
        headers={"Cache-Control": "no-store"},
    )


def _check(request: Request, login_id: str, token: str) -> tuple[int, dict[str, str]] | None:
    services = services_of(request)
    with services.database.unit_of_work(write=True) as session:
        unit = unit_of(request, session)
        row = find_by_device_code(unit, token, kind=DeviceKind.HEROKU_CLI)
        if row is None or row.id != login_id:
            return 401, {"error": "Unknown login; run heroku login again."}
        state = poll(row, enforce_interval=False)
        if state is PollState.APPROVED:
            issued = complete_heroku_cli_login(unit, row)
            return 200, {"access_token": issued.access.plaintext}
        if state is PollState.DENIED:
            return 200, {"error": "The login was denied in the browser."}
        if state is PollState.EXPIRED:
            return 200, {"error": "The login expired; run heroku login again."}
    return None


@router.get("/auth/cli/callback/{login_id}")
async def wait_for_login(request: Request, login_id: str) -> JSONResponse:
    """Long-poll until the browser decides (or about ten minutes pass)."""
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token:
        return JSONResponse({"error": "Send the login token as a Bearer token."}, status_code=401)
    deadline = time.monotonic() + LONG_POLL_LIMIT
    async with services_of(request).wakeups.listening(login_id) as decided:
        while True:
            answer = _check(request, login_id, token.strip())
            if answer is not None:
                status, body = answer
                return JSONResponse(body, status_code=status, headers={"Cache-Control": "no-store"})
            if time.monotonic() >= deadline or await request.is_disconnected():
                return JSONResponse(
                    {"error": "Timed out waiting for the browser."},
                    headers={"Cache-Control": "no-store"},
                )
            await decided.wait(POLL_SECONDS)
