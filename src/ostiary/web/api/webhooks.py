"""Account webhooks: ``/account/webhooks`` and ``/account/webhook-deliveries``, shaped like
Heroku's app webhooks (schema definitions ``app-webhook`` and ``app-webhook-delivery``).

The signing secret is never in a listing or a payload: Heroku's clients read a generated one
from the ``Heroku-Webhook-Secret`` header of the creating answer, the only time it is shown. A
webhook or delivery of another account is 404, as if it did not exist.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ostiary.clock import isoformat
from ostiary.web.api.deps import CallerDep, ServicesDep, SessionDep, UnitDep
from ostiary.web.api.ranges import RangeHeader, list_response, paginate, parse_range
from ostiary.web.api.shapes import Body, Timestamp
from ostiary.webhooks.models import Webhook, WebhookDelivery
from ostiary.webhooks.queries import deliveries_of, find_delivery, find_webhook, webhooks_of
from ostiary.webhooks.secrets import box_for
from ostiary.webhooks.services import create_webhook, delete_webhook, update_webhook

router = APIRouter(tags=["account-webhook"])

SORTABLE = ("id",)
WEBHOOK_COLUMNS = {"id": Webhook.id}
DELIVERY_COLUMNS = {"id": WebhookDelivery.id}
SECRET_HEADER = "Heroku-Webhook-Secret"  # noqa: S105 - a header name


class WebhookOut(BaseModel):
    """A webhook in Heroku's ``app_webhook`` shape (no ``app``: it is the account's)."""

    created_at: Timestamp
    id: str
    include: list[str]
    level: str
    updated_at: Timestamp
    url: str


class WebhookCreate(Body):
    """A new webhook; ``secret`` is generated when not given."""

    url: Any = None
    include: Any = None
    level: Any = "notify"
    secret: Any = None
    authorization: Any = None


class WebhookUpdate(Body):
    """What may change; a field left out stays (``authorization: null`` removes it)."""

    url: Any = None
    include: Any = None
    level: Any = None
    secret: Any = None
    authorization: Any = None


class EventRef(BaseModel):
    """The event a delivery carries."""

    id: str
    include: str


class WebhookRef(BaseModel):
    """The webhook a delivery goes to."""

    id: str
    level: str


class AttemptOut(BaseModel):
    """A delivery's last attempt."""

    id: str
    code: int | None
    error_class: str | None
    status: str
    created_at: Timestamp
    updated_at: Timestamp


class DeliveryOut(BaseModel):
    """A delivery in Heroku's ``app-webhook-delivery`` shape."""

    created_at: Timestamp
    event: EventRef
    id: str
    num_attempts: int
    next_attempt_at: Timestamp | None
    last_attempt: AttemptOut | None
    status: str
    updated_at: Timestamp
    webhook: WebhookRef


def present_webhook(webhook: Webhook) -> WebhookOut:
    """A webhook without its secret or Authorization header."""
    return WebhookOut(
        created_at=isoformat(webhook.created_at) or "",
        id=webhook.id,
        include=list(webhook.include),
        level=webhook.level,
        updated_at=isoformat(webhook.updated_at) or "",
        url=webhook.url,
    )


def present_delivery(delivery: WebhookDelivery) -> DeliveryOut:
    """A delivery and its last attempt's outcome (never its payload)."""
    last = None
    if delivery.last_attempt_id is not None:
        at = isoformat(delivery.last_attempt_at) or ""
        last = AttemptOut(
            id=delivery.last_attempt_id,
            code=delivery.last_attempt_code,
            error_class=delivery.last_attempt_error,
            status=delivery.last_attempt_status or "failed",
            created_at=at,
            updated_at=at,
        )
    return DeliveryOut(
        created_at=isoformat(delivery.created_at) or "",
        event=EventRef(id=delivery.event_id, include=delivery.include),
        id=delivery.id,
        num_attempts=delivery.num_attempts,
        next_attempt_at=isoformat(delivery.next_attempt_at),
        last_attempt=last,
        status=delivery.status,
        updated_at=isoformat(delivery.updated_at) or "",
        webhook=WebhookRef(id=delivery.webhook_id, level=delivery.webhook.level),
    )


@router.post(
    "/account/webhooks", response_model=WebhookOut, status_code=201, summary="Webhook create"
)
async def post_webhook(
    body: WebhookCreate, caller: CallerDep, unit: UnitDep, services: ServicesDep
) -> JSONResponse:
    """Subscribe the account's events to a URL; a generated secret is in this answer only."""
    # A webhook keeps sending the account's events after the token that made it is gone: not
    # for a token in a rotation's grace (tokens.queries.find_parent).
    caller.authorization(unit.session)
    created = create_webhook(
        unit,
        box_for(services.settings),
        account_id=caller.account_id,
        url=body.url,
        include=body.include,
        level=body.level,
        secret=body.secret,
        authorization=body.authorization,
        limit=services.settings.webhook_limit,
        allow_loopback=services.settings.webhook_allow_loopback,
    )
    shown = present_webhook(find_webhook(unit.session, caller.account_id, created.id))
    headers = {"Cache-Control": "no-store"}
    if body.secret is None:
        headers[SECRET_HEADER] = created.secret
    return JSONResponse(shown.model_dump(mode="json"), status_code=201, headers=headers)


@router.get("/account/webhooks", response_model=list[WebhookOut], summary="Webhook list")
async def list_webhooks(
    caller: CallerDep, session: SessionDep, range_header: RangeHeader = None
) -> JSONResponse:
    """The account's webhooks, without secrets."""
    requested = parse_range(range_header, SORTABLE, "id")
    page = paginate(session, webhooks_of(caller.account_id), WEBHOOK_COLUMNS, requested)
    return list_response(page, present_webhook, SORTABLE)


@router.get("/account/webhooks/{webhook_identity}", response_model=WebhookOut)
async def get_webhook(webhook_identity: str, caller: CallerDep, session: SessionDep) -> WebhookOut:
    """One of the account's webhooks."""
    return present_webhook(find_webhook(session, caller.account_id, webhook_identity))


@router.patch("/account/webhooks/{webhook_identity}", response_model=WebhookOut)
async def patch_webhook(
    webhook_identity: str,
    body: WebhookUpdate,
    caller: CallerDep,
    unit: UnitDep,
    services: ServicesDep,
) -> WebhookOut:
    """Change a webhook's URL, types, level, secret or Authorization header."""
    webhook = find_webhook(unit.session, caller.account_id, webhook_identity)
    caller.authorization(unit.session)  # as for a new webhook
    given = {name: getattr(body, name) for name in body.model_fields_set}
    update_webhook(
        unit,
        box_for(services.settings),
        webhook,
        allow_loopback=services.settings.webhook_allow_loopback,
        **given,
    )
    unit.session.flush()
    return present_webhook(webhook)


@router.delete("/account/webhooks/{webhook_identity}", response_model=WebhookOut)
async def remove_webhook(webhook_identity: str, caller: CallerDep, unit: UnitDep) -> WebhookOut:
    """Delete a webhook (its deliveries go with it); answers with the webhook."""
    webhook = find_webhook(unit.session, caller.account_id, webhook_identity)
    shown = present_webhook(webhook)
    delete_webhook(unit, webhook)
    return shown


@router.get(
    "/account/webhook-deliveries", response_model=list[DeliveryOut], summary="Delivery list"
)
async def list_deliveries(
    caller: CallerDep, session: SessionDep, range_header: RangeHeader = None
) -> JSONResponse:
    """The account's deliveries and their outcomes."""
    requested = parse_range(range_header, SORTABLE, "id")
    page = paginate(session, deliveries_of(caller.account_id), DELIVERY_COLUMNS, requested)
    return list_response(page, present_delivery, SORTABLE)


@router.get("/account/webhook-deliveries/{delivery_identity}", response_model=DeliveryOut)
async def get_delivery(
    delivery_identity: str, caller: CallerDep, session: SessionDep
) -> DeliveryOut:
    """One of the account's deliveries."""
    return present_delivery(find_delivery(session, caller.account_id, delivery_identity))
