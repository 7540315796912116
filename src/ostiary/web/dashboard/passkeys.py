"""The passkeys page: register several (after a recent password, as the API key page asks),
name and rename them, remove one (after a recent password; not the account's last second
factor while the server requires one).

Registering runs in the browser (``static/passkeys.js``): ``POST .../register/options`` hands it
the options for ``navigator.credentials.create()``, ``POST .../register/verify`` checks and stores
the answer. Both are JSON, need the dashboard's CSRF token in ``X-CSRF-Token`` and a password
proved in the last five minutes (``confirm`` proves it with a form). ``confirm/options`` and
``confirm/verify`` re-authenticate with a passkey instead, wherever the dashboard asks for the
password ("Or use a passkey").
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from ostiary.accounts.models import Account
from ostiary.errors import Unauthorized
from ostiary.passkeys.errors import ReauthenticationRequired
from ostiary.passkeys.queries import listings_of
from ostiary.passkeys.services import (
    finish_assertion,
    finish_registration,
    remove,
    rename,
    start_assertion,
    start_registration,
)
from ostiary.second_factors.errors import LastFactorRequired
from ostiary.second_factors.queries import enrolled_factors
from ostiary.second_factors.services import drop_unguarded_recovery_codes
from ostiary.unit import Unit
from ostiary.web.browser import current_login
from ostiary.web.context import request_context, services_of, unit_of
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
from ostiary.web.passkeys import (
    NO_STORE,
    answer_body,
    browser_of,
    credential_of,
    options_response,
    relying_party_of,
)

router = APIRouter(include_in_schema=False)
PASSKEYS = f"{PREFIX}/passkeys"


@router.get(PASSKEYS)
async def passkeys_page(request: Request) -> Response:
    """The account's passkeys, and the way to add one."""

    def build(session: Session, visitor: Visitor) -> Response:
        passkeys = listings_of(session, visitor.account.id)
        return render(request, visitor, "passkeys.html", passkeys=passkeys)

    return show(request, build)


@router.post(f"{PASSKEYS}/confirm")
async def confirm(request: Request) -> Response:
    """Prove the password, so that a passkey may be added in the next five minutes."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        confirm_identity(visitor)
        return done(PASSKEYS, "Confirmed: you can add a passkey now.")

    return await act(request, PASSKEYS, work, proof_field="password")


def _json_visitor(request: Request, session: Session) -> Visitor:
    """The signed-in visitor of a JSON request."""
    login = current_login(request, session)
    account = session.get(Account, login.account_id) if login is not None else None
    if login is None or account is None:
        raise Unauthorized("Sign in first.")
    return Visitor(account, login, request_context(request))


def _recent_visitor(request: Request, session: Session) -> Visitor:
    """The signed-in visitor of a JSON request, who proved the password recently."""
    visitor = _json_visitor(request, session)
    if not visitor.recently_authenticated:
        raise ReauthenticationRequired
    return visitor


@router.post(f"{PASSKEYS}/register/options")
async def register_options(request: Request) -> Response:
    """Options for ``navigator.credentials.create()``: a fresh challenge, the account's other
    passkeys excluded."""
    browser = browser_of(request, CSRF_PURPOSE)
    with services_of(request).database.unit_of_work(write=True) as session:
        visitor = _recent_visitor(request, session)
        options = start_registration(
            unit_of(request, session), relying_party_of(request), visitor.account, browser=browser
        )
    return options_response(options)


@router.post(f"{PASSKEYS}/register/verify")
async def register_verify(request: Request) -> Response:
    """Check the authenticator's answer and keep its passkey under the name given
    (``account:second-factor:add``, kind passkey)."""
    browser = browser_of(request, CSRF_PURPOSE)
    body = await answer_body(request)
    name = body.get("name")
    credential = credential_of(body)
    with services_of(request).database.unit_of_work(write=True) as session:
        visitor = _recent_visitor(request, session)
        passkey = finish_registration(
            unit_of(request, session),
            relying_party_of(request),
            visitor.account,
            credential,
            name=name if isinstance(name, str) else "",
            browser=browser,
        )
        created = {"id": passkey.id, "name": passkey.name}
    return JSONResponse(created, status_code=201, headers=NO_STORE)


@router.post(f"{PASSKEYS}/{{passkey_id}}/rename")
async def rename_passkey(request: Request, passkey_id: str) -> Response:
    """Give a passkey a new name."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        passkey = rename(unit, visitor.account.id, passkey_id, field(form, "name"))
        return done(PASSKEYS, f"Renamed the passkey {passkey.name}.")

    return await act(request, PASSKEYS, work)


@router.post(f"{PASSKEYS}/{{passkey_id}}/delete")
async def remove_passkey(request: Request, passkey_id: str) -> Response:
    """Remove a passkey (after a recent password): it signs nobody in any more."""

    required = services_of(request).settings.require_2fa

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        confirm_identity(visitor)
        remove(unit, visitor.account.id, passkey_id, by="owner")
        # The last second factor stays while the server requires one (OSTIARY_REQUIRE_2FA).
        # (Refused after the removal, which the error rolls back: the account may have several.)
        if required and not enrolled_factors(unit.session, visitor.account.id):
            raise LastFactorRequired
        drop_unguarded_recovery_codes(unit, visitor.account.id)
        return done(PASSKEYS, "Passkey removed.")

    return await act(request, PASSKEYS, work, proof_field="password")


@router.post(f"{PASSKEYS}/confirm/options")
async def confirm_options(request: Request) -> Response:
    """A challenge for re-authentication with one of the visitor's passkeys (user verification
    required: it stands for the password)."""
    browser = browser_of(request, CSRF_PURPOSE)
    with services_of(request).database.unit_of_work(write=True) as session:
        visitor = _json_visitor(request, session)
        options = start_assertion(
            unit_of(request, session),
            relying_party_of(request),
            purpose="reauthenticate",
            browser=browser,
            account_id=visitor.account.id,
        )
    return options_response(options)


@router.post(f"{PASSKEYS}/confirm/verify")
async def confirm_verify(request: Request) -> Response:
    """Check the passkey: the session counts as re-authenticated for five minutes, as after the
    password (``auth:reauthentication:success``, kind passkey)."""
    browser = browser_of(request, CSRF_PURPOSE)
    credential = credential_of(await answer_body(request))
    with services_of(request).database.unit_of_work(write=True) as session:
        unit = unit_of(request, session)
        visitor = _json_visitor(request, session)
        finish_assertion(
            unit,
            relying_party_of(request),
            credential,
            purpose="reauthenticate",
            browser=browser,
            account_id=visitor.account.id,
        )
        visitor.login.authenticated_at = unit.now()
    return JSONResponse({"confirmed": True}, headers=NO_STORE)
