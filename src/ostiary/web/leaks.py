"""The leak report endpoints, public (no credentials, no Platform API Accept header):

- ``POST /leaks/github``: GitHub's secret scanning partner program. The raw body must verify
  with the GitHub key it names (``leaks.signatures``); the answer labels each token
  ``true_positive`` (one of ours, now revoked) or ``false_positive``. 404 when the server has no
  key set (``OSTIARY_GITHUB_SCANNING_KEYS``), 401 unsigned, 403 unknown key or bad signature,
  and nothing is looked up before the signature verifies.
- ``POST /leaks``: anyone reports a token they found, ``{"token", "url"}``. Each address spends
  the budget of unauthenticated requests that write rows (``OSTIARY_LOGIN_REQUEST_LIMIT``), and
  the answer is the same 202 whether the token was real, revoked already or made up, so the
  endpoint tells nobody which tokens exist.

Bodies are bounded by ``OSTIARY_MAX_BODY_SIZE`` (the conventions middleware) and a GitHub
payload by ``leaks.rules.MAX_REPORTED_TOKENS``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TypeVar

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from ostiary.errors import ServiceUnavailable, TooManyRequests
from ostiary.leaks.errors import ScanningNotConfigured, TooManyReports
from ostiary.leaks.records import Verdict
from ostiary.leaks.rules import parse_github_payload, parse_public_report
from ostiary.leaks.services import respond_to_leak
from ostiary.leaks.signatures import KeySetError, load_key_set, verify_payload
from ostiary.unit import Unit
from ostiary.web.context import request_context, services_of, unit_of
from ostiary.web.json_body import parse_json_body

T = TypeVar("T")

router = APIRouter(tags=["leaks"], include_in_schema=False)
logger = logging.getLogger("ostiary.leaks")

KEY_IDENTIFIER_HEADER = "github-public-key-identifier"
SIGNATURE_HEADER = "github-public-key-signature"
RECEIVED = {
    "message": "Thank you. If this is a live Ostiary token, it is revoked now and its owner told "
    "where you found it."
}


@router.post("/leaks/github")
async def github_report(request: Request) -> JSONResponse:
    """GitHub's secret scanning report: verify, revoke every real token, label each."""
    services = services_of(request)
    key_file = services.settings.github_scanning_keys
    if key_file is None:
        raise ScanningNotConfigured()
    try:
        keys = load_key_set(key_file)
    except (OSError, KeySetError) as error:
        # GitHub retries a 5xx: better than refusing its reports while the file is fixed.
        logger.error("cannot read OSTIARY_GITHUB_SCANNING_KEYS (%s): %s", key_file, error)
        raise ServiceUnavailable(60, unreachable="its GitHub key set") from error
    body = await request.body()
    verify_payload(
        keys,
        request.headers.get(KEY_IDENTIFIER_HEADER),
        request.headers.get(SIGNATURE_HEADER),
        body,
    )
    reported = parse_github_payload(parse_json_body(body))

    def respond(unit: Unit) -> dict[str, bool]:
        # In one order whatever the payload's (PostgreSQL locks each row it finds FOR UPDATE):
        # two reports naming the same tokens in different orders cannot deadlock.
        return {
            item.token: respond_to_leak(unit, item, where="github", tell_if_revoked=True)
            for item in sorted(reported, key=lambda item: item.token)
        }

    real = _in_retried_unit(request, respond)
    verdicts = [
        Verdict(
            token_raw=item.token,
            token_type=item.type,
            label="true_positive" if real[item.token] else "false_positive",
        )
        for item in reported
    ]
    return JSONResponse(
        [verdict.as_json() for verdict in verdicts], headers={"Cache-Control": "no-store"}
    )


@router.post("/leaks", status_code=202)
async def public_report(request: Request) -> JSONResponse:
    """A token someone found: revoked when real; the same answer whatever it was."""
    services = services_of(request)
    try:
        services.login_requests.spend(request_context(request).ip)
    except TooManyRequests as spent:
        raise TooManyReports(spent.retry_after) from spent
    reported = parse_public_report(parse_json_body(await request.body()))
    _in_retried_unit(
        request,
        lambda unit: respond_to_leak(unit, reported, where="public-report", tell_if_revoked=False),
    )
    return JSONResponse(RECEIVED, status_code=202, headers={"Cache-Control": "no-store"})


# How often a report is answered again when PostgreSQL broke a deadlock by rolling it back.
REPORT_ATTEMPTS = 3


def _in_retried_unit(request: Request, respond: Callable[[Unit], T]) -> T:
    """``respond``'s result, in a write transaction run again when it lost a race (a deadlock
    with a request that touched and suspended one of the reported credentials). A response to a
    leak is idempotent, and a report that fails is a leaked credential left live until its
    sender tries again: better to try here at once."""
    database = services_of(request).database
    for attempt in range(1, REPORT_ATTEMPTS):
        try:
            with database.unit_of_work(write=True) as session:
                return respond(unit_of(request, session))
        except Exception as error:
            if not database.lost_a_race(error):
                raise
            logger.warning("a leak report lost a race (attempt %d); answering it again", attempt)
    with database.unit_of_work(write=True) as session:
        return respond(unit_of(request, session))
