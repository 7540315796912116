"""The "Two-factor authentication" page: set up an authenticator app (RFC 6238 TOTP) by
scanning a QR code or typing its secret, confirm it with a current code, and see the ten
recovery codes once; regenerate them (after a recent re-authentication); turn the app off (with
the password and a current code; refused while the server requires a second factor and it is
the last one).

The QR code is drawn here, as an SVG ``data:`` image (segno), so the page loads nothing from
elsewhere and keeps its Content-Security-Policy (``img-src 'self' data:``), with no script.
"""

from __future__ import annotations

from typing import Any

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from ostiary.errors import Unauthorized
from ostiary.second_factors.errors import WrongCode
from ostiary.second_factors.queries import recovery_codes_left
from ostiary.second_factors.records import TotpEnrolment
from ostiary.second_factors.services import (
    check_code,
    confirm_totp,
    regenerate_recovery_codes,
    remove_totp,
    start_totp,
)
from ostiary.unit import Unit
from ostiary.web.browser import safe_next
from ostiary.web.context import services_of
from ostiary.web.dashboard.pages import Visitor, act, confirm_identity, done, field, render, show
from ostiary.web.sign_in import ENROL_PATH

router = APIRouter(include_in_schema=False)


def qr_data_uri(uri: str) -> str:
    """The ``otpauth://`` URI as a QR code, an SVG ``data:`` URI for an ``<img>``."""
    return str(segno.make(uri, error="m").svg_data_uri(scale=5, border=2))


def _page(
    request: Request, session: Session, visitor: Visitor, next_path: str, **context: Any
) -> Response:
    return render(
        request,
        visitor,
        "second_factors.html",
        next=next_path,
        recovery_left=recovery_codes_left(session, visitor.account.id),
        required=services_of(request).settings.require_2fa,
        **context,
    )


def _enrolling(
    request: Request,
    unit: Unit,
    visitor: Visitor,
    enrolment: TotpEnrolment,
    next_path: str,
    **context: Any,
) -> Response:
    return _page(
        request,
        unit.session,
        visitor,
        next_path,
        enrolment=enrolment,
        qr=qr_data_uri(enrolment.uri),
        **context,
    )


@router.get(ENROL_PATH)
async def second_factors_page(request: Request, next: str = "/") -> Response:
    """The account's second factors and what can be done with them."""
    return show(request, lambda session, visitor: _page(request, session, visitor, safe_next(next)))


@router.post(f"{ENROL_PATH}/totp")
async def start(request: Request) -> Response:
    """Begin setting up an authenticator app: its secret, as a QR code and as text."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        # A borrowed session must not enrol a factor of its own: its codes would then pass
        # every re-authentication, and lock the owner out.
        confirm_identity(visitor)
        enrolment = start_totp(unit, visitor.account.id, visitor.account.email)
        return _enrolling(request, unit, visitor, enrolment, safe_next(field(form, "next")))

    return await act(request, ENROL_PATH, work, proof_field="password")


@router.post(f"{ENROL_PATH}/totp/confirm")
async def confirm(request: Request) -> Response:
    """Confirm the app with a current code; show the recovery codes once."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        confirm_identity(visitor)
        next_path = safe_next(field(form, "next"))
        try:
            codes = confirm_totp(unit, visitor.account.id, field(form, "code"))
        except WrongCode:
            # Nothing changed: the failure is recorded in this transaction, and the same
            # secret is shown again.
            unit.record(
                "auth:second-factor:failure", actor_id=visitor.account.id, details={"kind": "totp"}
            )
            enrolment = start_totp(unit, visitor.account.id, visitor.account.email)
            message = "That code is not right. Check the app's clock and try the next code."
            return _enrolling(request, unit, visitor, enrolment, next_path, error=message)
        visitor.factors = visitor.factors | {"totp"}
        return _page(request, unit.session, visitor, next_path, recovery_codes=codes, added=True)

    return await act(request, ENROL_PATH, work, proof_field="password")


@router.post(f"{ENROL_PATH}/recovery-codes")
async def regenerate(request: Request) -> Response:
    """New recovery codes (the old ones stop working), after a recent re-authentication."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        confirm_identity(visitor)
        codes = regenerate_recovery_codes(unit, visitor.account.id)
        return _page(request, unit.session, visitor, "/", recovery_codes=codes)

    return await act(request, ENROL_PATH, work, proof_field="password")


@router.post(f"{ENROL_PATH}/totp/delete")
async def remove(request: Request) -> Response:
    """Turn the authenticator app off: the password and a current code, both in this form."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        if not visitor.password_proved:
            raise Unauthorized("Enter your password and a current code to turn the app off.")
        services = services_of(request)
        check_code(
            unit, services.failure_throttle, visitor.account.id, field(form, "code"), recovery=False
        )
        remove_totp(unit, visitor.account.id, required=services.settings.require_2fa)
        return done(ENROL_PATH, "The authenticator app is off; your recovery codes were deleted.")

    return await act(request, ENROL_PATH, work, proof_field="password")
