"""Alerts: the account's alerts newest first, marking them seen, reinstating (password
confirmed) or revoking the credential an alert is about, and the suspension policy. The notice
on every other page is the layout's (``pages.Visitor.unseen_alerts``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from ostiary.alerts.queries import find_alert, find_credential, newest_alerts, policy_of
from ostiary.alerts.services import mark_all_seen, mark_seen, reinstate, set_policy
from ostiary.errors import NotFound
from ostiary.tokens.models import Authorization, AuthorizationKind
from ostiary.tokens.services import revoke
from ostiary.unit import Unit
from ostiary.web.dashboard.pages import PREFIX, Visitor, act, confirm_identity, done, render, show

router = APIRouter(include_in_schema=False)
ALERTS = f"{PREFIX}/alerts"
RULE_CHOICES = [
    ("spike", "an hour's requests far above the credential's usual"),
    ("new-network", "use from a network not used in the last 30 days"),
    ("new-user-agent", "use by a kind of program not seen before"),
    ("dormant-use", "the first use after 30 days or more unused"),
    ("probing", "a burst of refused requests"),
    # Not dead-credential: it is raised by a dead token, and never suspends the live credential
    # that token belonged to (docs/alerts.md, Suspension).
]


def _page(request: Request, session: Session, visitor: Visitor, **context: Any) -> Response:
    alerts = newest_alerts(session, visitor.account.id)
    ids = {alert.authorization_id for alert in alerts if alert.authorization_id}
    live = {
        row.id: row.kind
        for row in session.execute(
            select(Authorization.id, Authorization.kind).where(
                Authorization.id.in_(ids), Authorization.revoked_at.is_(None)
            )
        )
    }
    api_key = AuthorizationKind.API_KEY.value
    return render(
        request,
        visitor,
        "alerts.html",
        alerts=alerts,
        revocable={a.id for a in alerts if live.get(a.authorization_id or "", api_key) != api_key},
        api_key_alerts={a.id for a in alerts if live.get(a.authorization_id or "") == api_key},
        policy=policy_of(session, visitor.account.id),
        rule_choices=RULE_CHOICES,
        **context,
    )


@router.get(ALERTS)
async def alerts_page(request: Request) -> Response:
    """The account's alerts and its suspension policy."""
    return show(request, lambda session, visitor: _page(request, session, visitor))


@router.post(f"{ALERTS}/seen")
async def all_seen(request: Request) -> Response:
    """Mark every alert seen: the notice goes away."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        count = mark_all_seen(unit, visitor.account.id)
        return done(ALERTS, f"{count} alert{'s' if count != 1 else ''} marked as seen.")

    return await act(request, ALERTS, work)


@router.post(f"{ALERTS}/policy")
async def policy(request: Request) -> Response:
    """Save the rules whose alert suspends the credential."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        rules = set_policy(unit, visitor.account.id, [str(r) for r in form.getlist("suspend_on")])
        chosen = ", ".join(rules.suspend_on) or "no rule"
        return done(ALERTS, f"Credentials are now suspended on: {chosen}.")

    return await act(request, ALERTS, work)


@router.post(f"{ALERTS}/{{alert_id}}/seen")
async def seen(request: Request, alert_id: str) -> Response:
    """Mark one alert seen."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        mark_seen(unit, visitor.account.id, alert_id)
        return done(ALERTS, "Alert marked as seen.")

    return await act(request, ALERTS, work)


def _credential_of(unit: Unit, visitor: Visitor, alert_id: str) -> Authorization:
    alert = find_alert(unit.session, visitor.account.id, alert_id)
    if alert.authorization_id is None:
        raise NotFound("authorization", "That credential no longer exists.")
    return find_credential(
        unit.session, visitor.account.id, alert.authorization_id, for_update=True
    )


@router.post(f"{ALERTS}/{{alert_id}}/reinstate")
async def reinstate_credential(request: Request, alert_id: str) -> Response:
    """Lift the suspension of the alert's credential (the password is asked for: the alert
    said it may be in someone else's hands); the alert is marked seen."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        confirm_identity(visitor)
        credential = reinstate(unit, _credential_of(unit, visitor, alert_id))
        mark_seen(unit, visitor.account.id, alert_id)
        name = credential.description or "The credential"
        return done(ALERTS, f"{name} was reinstated and works again.")

    return await act(request, ALERTS, work, proof_field="password")


@router.post(f"{ALERTS}/{{alert_id}}/revoke")
async def revoke_credential(request: Request, alert_id: str) -> Response:
    """Revoke the alert's credential (the API key is regenerated on its own page instead); the
    alert is marked seen."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        credential = _credential_of(unit, visitor, alert_id)
        if credential.kind == AuthorizationKind.API_KEY:
            return done(ALERTS, "The API key cannot be revoked; regenerate it instead.")
        revoke(unit, credential)
        mark_seen(unit, visitor.account.id, alert_id)
        return done(ALERTS, f"{credential.description or 'The credential'} was revoked.")

    return await act(request, ALERTS, work)
