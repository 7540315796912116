"""Signing in with a passkey: alone (a discoverable credential, no email typed), or as the
second factor after the password; and what the passkey endpoints of every page share: the JSON
bodies they read (bounded), the CSRF header they need, and the relying party of this server
(WebAuthn L2 section 5.4.2, docs/passkeys.md).

``POST /login/passkey/options`` hands the browser a challenge for ``navigator.credentials.get()``;
``POST /login/passkey/verify`` checks its answer and signs the browser in: the session cookie,
and where to go (``{"location": ...}``, which the page then opens; a redirect that ``fetch``
followed could lead to another origin, such as an OAuth client's redirect URI).
``/login/second-factor/passkey/options`` and ``.../verify`` do the same for the pending
sign-in's account (``web.sign_in``), offering only its passkeys. All need the page's CSRF token
in ``X-CSRF-Token``; errors are JSON. Every sign-in ends in ``web.sign_in.finish_sign_in``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from ostiary.errors import Forbidden, InvalidParams, PayloadTooLarge, Unauthorized
from ostiary.passkeys.records import RelyingParty
from ostiary.passkeys.rules import MAX_ANSWER_BYTES, relying_party
from ostiary.passkeys.services import finish_assertion, start_assertion
from ostiary.web.browser import CSRF_COOKIE, csrf_valid, safe_next
from ostiary.web.context import services_of, unit_of
from ostiary.web.json_body import parse_json_body
from ostiary.web.oauth import issuer_of
from ostiary.web.sign_in import SECOND_FACTOR_PATH, PendingSignIn, finish_sign_in, pending_sign_in

router = APIRouter(tags=["pages"], include_in_schema=False)
CSRF_HEADER = "x-csrf-token"
NO_STORE = {"Cache-Control": "no-store"}


def relying_party_of(request: Request) -> RelyingParty:
    """This server as WebAuthn sees it: the host of ``OSTIARY_ISSUER``, else of the URL the
    request reached (a Host header the conventions middleware believed)."""
    return relying_party(issuer_of(request, services_of(request)))


def browser_of(request: Request, purpose: str) -> str:
    """The browser's CSRF cookie, once the request's ``X-CSRF-Token`` header proved it is the
    page's (a double submit, as ``web.browser`` does for forms): challenges are bound to it."""
    if not csrf_valid(request, purpose, request.headers.get(CSRF_HEADER)):
        raise Forbidden("Your page expired. Reload it and try again.")
    return request.cookies[CSRF_COOKIE]


async def answer_body(request: Request) -> dict[str, Any]:
    """The request's JSON object, refused unread past :data:`MAX_ANSWER_BYTES` (413) and when it
    is not a JSON object (422)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_ANSWER_BYTES:
        raise PayloadTooLarge(MAX_ANSWER_BYTES)
    raw = bytearray()
    async for chunk in request.stream():
        raw.extend(chunk)
        if len(raw) > MAX_ANSWER_BYTES:
            raise PayloadTooLarge(MAX_ANSWER_BYTES)
    parsed = parse_json_body(bytes(raw)) if raw else {}
    if not isinstance(parsed, dict):
        raise InvalidParams("body", "The request body must be a JSON object.")
    return parsed


def credential_of(body: dict[str, Any]) -> dict[str, Any]:
    """The ``credential`` member of an answer: the browser's ``PublicKeyCredential`` as JSON."""
    credential = body.get("credential")
    if not isinstance(credential, dict):
        raise InvalidParams("credential", "The answer carries no passkey credential.")
    return credential


def signed_in(response: Response) -> Response:
    """``web.sign_in.finish_sign_in``'s 303 as ``fetch`` wants it: its cookies kept, 200 with
    ``{"location": ...}`` (the page goes there itself)."""
    answer = JSONResponse({"location": response.headers["location"]}, headers=NO_STORE)
    for cookie in response.headers.getlist("set-cookie"):
        answer.headers.append("set-cookie", cookie)
    return answer


def options_response(options: str) -> Response:
    """WebAuthn options (JSON text from py_webauthn), never cached."""
    return Response(options, media_type="application/json", headers=NO_STORE)


@router.post("/login/passkey/options")
async def sign_in_options(request: Request) -> Response:
    """A challenge for a passwordless sign-in; rate-limited per address like other requests
    anyone may make."""
    browser = browser_of(request, "login")
    services = services_of(request)
    services.login_requests.spend(request.client.host if request.client else None)
    with services.database.unit_of_work(write=True) as session:
        unit = unit_of(request, session)
        options = start_assertion(
            unit, relying_party_of(request), purpose="sign-in", browser=browser
        )
    return options_response(options)


@router.post("/login/passkey/verify")
async def sign_in_verify(request: Request) -> Response:
    """Check the passkey's answer; sign the browser in (``auth:passkey:success``) and say where
    it goes next."""
    browser = browser_of(request, "login")
    body = await answer_body(request)
    target = safe_next(body.get("next") if isinstance(body.get("next"), str) else None)
    credential = credential_of(body)
    with services_of(request).database.unit_of_work(write=True) as session:
        unit = unit_of(request, session)
        verified = finish_assertion(
            unit, relying_party_of(request), credential, purpose="sign-in", browser=browser
        )
        return signed_in(
            finish_sign_in(request, unit, verified.account_id, method="passkey", next=target)
        )


def _pending(request: Request) -> PendingSignIn:
    pending = pending_sign_in(request)
    if pending is None:
        raise Unauthorized("Your sign-in expired. Please enter your password again.")
    return pending


@router.post(f"{SECOND_FACTOR_PATH}/passkey/options")
async def second_factor_options(request: Request) -> Response:
    """A challenge for the pending sign-in's account, naming only its passkeys."""
    browser = browser_of(request, "second-factor")
    pending = _pending(request)
    with services_of(request).database.unit_of_work(write=True) as session:
        options = start_assertion(
            unit_of(request, session),
            relying_party_of(request),
            purpose="second-factor",
            browser=browser,
            account_id=pending.account_id,
        )
    return options_response(options)


@router.post(f"{SECOND_FACTOR_PATH}/passkey/verify")
async def second_factor_verify(request: Request) -> Response:
    """Check the passkey (one of the pending account's: ``auth:second-factor:success``, kind
    passkey) and finish the sign-in: where it was going, as for a passwordless one."""
    browser = browser_of(request, "second-factor")
    pending = _pending(request)
    credential = credential_of(await answer_body(request))
    with services_of(request).database.unit_of_work(write=True) as session:
        unit = unit_of(request, session)
        finish_assertion(
            unit,
            relying_party_of(request),
            credential,
            purpose="second-factor",
            browser=browser,
            account_id=pending.account_id,
        )
        return signed_in(
            finish_sign_in(request, unit, pending.account_id, method="passkey", next=pending.next)
        )
