"""Webhooks: where the account's alerts and events are POSTed, the last deliveries and how
they went; add one (its signing secret shown once) or delete one."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from ostiary.unit import Unit
from ostiary.web.context import services_of
from ostiary.web.dashboard.pages import PREFIX, Visitor, act, done, field, render, show
from ostiary.webhooks.models import Webhook, WebhookDelivery
from ostiary.webhooks.queries import deliveries_of, find_webhook, webhooks_of
from ostiary.webhooks.records import INCLUDES, LEVELS
from ostiary.webhooks.secrets import box_for
from ostiary.webhooks.services import create_webhook, delete_webhook

router = APIRouter(include_in_schema=False)
WEBHOOKS = f"{PREFIX}/webhooks"
RECENT_DELIVERIES = 20
INCLUDE_MEANINGS = {
    "alert": "Anomaly alerts (spikes, new networks, dormant or dead credentials...)",
    "event": "Every event of the activity log",
}


def _page(request: Request, session: Session, visitor: Visitor, **context: Any) -> Response:
    hooks = session.scalars(
        webhooks_of(visitor.account.id).order_by(Webhook.created_at.desc())
    ).all()
    deliveries = (
        session.scalars(
            deliveries_of(visitor.account.id)
            .order_by(WebhookDelivery.created_at.desc())
            .limit(RECENT_DELIVERIES)
        )
        .unique()
        .all()
    )
    return render(
        request,
        visitor,
        "webhooks.html",
        hooks=hooks,
        deliveries=deliveries,
        includes=[(name, INCLUDE_MEANINGS[name]) for name in INCLUDES],
        levels=LEVELS,
        **context,
    )


@router.get(WEBHOOKS)
async def webhooks_page(request: Request) -> Response:
    """The account's webhooks, recent deliveries and the form to add a webhook."""
    return show(request, lambda session, visitor: _page(request, session, visitor))


@router.post(WEBHOOKS)
async def add(request: Request) -> Response:
    """Add a webhook; its generated secret is in this answer only."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        settings = services_of(request).settings
        created = create_webhook(
            unit,
            box_for(settings),
            account_id=visitor.account.id,
            url=field(form, "url"),
            include=[str(value) for value in form.getlist("include")],
            level=field(form, "level") or "notify",
            limit=settings.webhook_limit,
            allow_loopback=settings.webhook_allow_loopback,
        )
        return _page(request, unit.session, visitor, new_secret=created.secret)

    return await act(request, WEBHOOKS, work)


@router.post(f"{WEBHOOKS}/{{webhook_id}}/delete")
async def remove(request: Request, webhook_id: str) -> Response:
    """Delete a webhook; its pending deliveries are never sent."""

    def work(unit: Unit, visitor: Visitor, form: FormData) -> Response:
        delete_webhook(unit, find_webhook(unit.session, visitor.account.id, webhook_id))
        return done(WEBHOOKS, "Webhook deleted.")

    return await act(request, WEBHOOKS, work)
