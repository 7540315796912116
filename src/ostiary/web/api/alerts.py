"""Alerts and the alert policy (extensions of the Platform API, not in Heroku's schema):
``/account/alerts`` (newest first, Range-paginated on ``raised_at``), marking one seen,
``/account/alert-policy``, and reinstating a credential an alert suspended
(``/oauth/authorizations/{id}/actions/reinstate``; ``~`` is the API key).

An account sees and acts on its own alerts and credentials only: another's are 404.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from ostiary.alerts.models import Alert
from ostiary.alerts.queries import alerts_of, find_credential, policy_of, records_of
from ostiary.alerts.records import RaisedAlert
from ostiary.alerts.services import mark_seen, reinstate, set_policy
from ostiary.clock import isoformat
from ostiary.errors import BadRequest
from ostiary.tokens.models import Authorization
from ostiary.tokens.queries import api_key_of, live_tokens
from ostiary.web.api.authorizations import AuthorizationOut, present_authorization
from ostiary.web.api.deps import CallerDep, SessionDep, UnitDep
from ostiary.web.api.ranges import Page, Range, RangeHeader, list_response, parse_range, within
from ostiary.web.api.shapes import Body, IdOnly, Timestamp

router = APIRouter(tags=["alert"])

SORTABLE = ("raised_at",)
API_KEY = "~"


class AlertOut(BaseModel):
    """An alert: the rule, the credential, what was found, and whether it suspended it."""

    id: str
    rule: str
    raised_at: Timestamp
    seen_at: Timestamp | None
    summary: str
    authorization: IdOnly | None
    credential: dict[str, object] | None
    facts: dict[str, object]
    suspended: bool = Field(description="the credential is suspended by this alert now")


class PolicyOut(BaseModel):
    """The account's alert policy."""

    suspend_on: list[str] = Field(description="rules whose alert suspends the credential")


class PolicyUpdate(Body):
    """A new policy (replaces the rules)."""

    suspend_on: list[str] = Field(max_length=20)


def present_alert(alert: RaisedAlert) -> AlertOut:
    """An alert as the API shows it."""
    credential = alert.details.get("credential")
    facts = alert.details.get("facts")
    return AlertOut(
        id=alert.id,
        rule=alert.rule,
        raised_at=isoformat(alert.raised_at) or "",
        seen_at=isoformat(alert.seen_at),
        summary=alert.summary,
        authorization=IdOnly(id=alert.authorization_id) if alert.authorization_id else None,
        credential=credential if isinstance(credential, dict) else None,
        facts=facts if isinstance(facts, dict) else {},
        suspended=alert.suspended,
    )


def _moment(value: str) -> datetime:
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        raise BadRequest(f"Invalid Range header: {value!r} is not a timestamp.") from None


def _page(session: Session, account_id: str, requested: Range) -> Page[RaisedAlert]:
    """One page of alerts by ``raised_at`` (timestamps to the microsecond, as Next-Range sends
    them back)."""
    query = within(alerts_of(account_id), Alert.raised_at, requested, _moment)
    rows = list(session.scalars(query.limit(requested.max + 1)).all())
    items = records_of(session, rows[: requested.max])
    return Page(
        items=items,
        range=requested,
        first_value=items[0].raised_at.isoformat() if items else None,
        last_value=items[-1].raised_at.isoformat() if items else None,
        has_more=len(rows) > requested.max,
    )


@router.get("/account/alerts", response_model=list[AlertOut], summary="Alert list")
async def list_alerts(
    caller: CallerDep, session: SessionDep, range_header: RangeHeader = None
) -> JSONResponse:
    """The account's alerts, newest first unless the Range asks otherwise."""
    requested = parse_range(range_header, SORTABLE, "raised_at")
    if range_header is None or not range_header.strip():
        requested = Range("raised_at", None, False, None, requested.max, True)
    return list_response(_page(session, caller.account_id, requested), present_alert, SORTABLE)


@router.post(
    "/account/alerts/{alert_identity}/actions/mark-seen",
    response_model=AlertOut,
    summary="Alert mark seen",
)
async def mark_alert_seen(alert_identity: str, caller: CallerDep, unit: UnitDep) -> AlertOut:
    """Mark an alert seen: the dashboard's notice counts only unseen ones."""
    return present_alert(mark_seen(unit, caller.account_id, alert_identity))


@router.get("/account/alert-policy", response_model=PolicyOut, summary="Alert policy info")
async def get_policy(caller: CallerDep, session: SessionDep) -> PolicyOut:
    """The account's alert policy."""
    return PolicyOut(suspend_on=list(policy_of(session, caller.account_id).suspend_on))


@router.patch("/account/alert-policy", response_model=PolicyOut, summary="Alert policy update")
async def patch_policy(body: PolicyUpdate, caller: CallerDep, unit: UnitDep) -> PolicyOut:
    """Choose the rules whose alert suspends the credential (``[]``: none)."""
    return PolicyOut(
        suspend_on=list(set_policy(unit, caller.account_id, body.suspend_on).suspend_on)
    )


def _credential(session: Session, account_id: str, identity: str) -> Authorization:
    if identity == API_KEY:
        return api_key_of(session, account_id, for_update=True)
    return find_credential(session, account_id, identity, for_update=True)


@router.post(
    "/oauth/authorizations/{authorization_identity}/actions/reinstate",
    response_model=AuthorizationOut,
    summary="OAuth authorization reinstate",
)
async def reinstate_authorization(
    authorization_identity: str, caller: CallerDep, unit: UnitDep
) -> AuthorizationOut:
    """Lift the suspension an alert put on one of the account's credentials; its tokens work
    again from the next request."""
    # The asking token is passed on: neither the suspended credential nor a token it made may
    # lift the suspension (403).
    authorization = reinstate(
        unit,
        _credential(unit.session, caller.account_id, authorization_identity),
        by_authorization_id=caller.principal.authorization_id,
    )
    tokens = live_tokens(unit.session, [authorization])[authorization.id]
    return present_authorization(authorization, tokens.access, refresh=tokens.refresh)
