"""The add-on resource: ``/apps/{app}/addons``, ``/addons`` and ``/actions/addons/resolve``
(schema definition ``add-on``)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, field_validator

from ostiary.apps.addons import (
    addon_config_vars,
    addons_of,
    change_plan,
    create_addon,
    delete_addon,
    find_addon,
)
from ostiary.apps.catalog import PLANS_BY_ID
from ostiary.apps.models import AddOn
from ostiary.apps.resolve import resolve_addons, visible_addons
from ostiary.apps.stores import find_app
from ostiary.clock import isoformat
from ostiary.web.api.deps import CallerDep, SessionDep
from ostiary.web.api.ranges import RangeHeader, list_response, paginate, parse_range
from ostiary.web.api.shapes import Body, IdName, Timestamp

router = APIRouter(tags=["add-on"])

PROVISION_MESSAGE = "Recorded by Ostiary: add-ons are catalogue records; nothing was provisioned."
SORTABLE = ("id", "name")
COLUMNS = {"id": AddOn.id, "name": AddOn.name}


class BillingEntity(BaseModel):
    """Who pays for an add-on: its app."""

    id: str
    name: str
    type: str


class BilledPrice(BaseModel):
    """An add-on's monthly price."""

    cents: int
    contract: bool
    unit: str


class AddOnOut(BaseModel):
    """An add-on, in Heroku's shape."""

    actions: list[dict[str, str]]
    addon_service: IdName
    billing_entity: BillingEntity
    app: IdName
    billed_price: BilledPrice | None
    config_vars: list[str]
    created_at: Timestamp
    id: str
    name: str
    plan: IdName
    provider_id: str
    provision_message: str
    state: str
    updated_at: Timestamp
    web_url: str | None


def _plan_identity(value: object) -> object:
    # Clients send the plan as a name or id, or as an object {"name": ...} / {"id": ...}.
    if isinstance(value, dict):
        return value.get("name") or value.get("id")
    return value


class AddOnCreate(Body):
    """The plan to provision (``service:plan``, a service name, or a plan id) and a name."""

    plan: str
    name: str | None = None

    _plan = field_validator("plan", mode="before")(_plan_identity)


class AddOnResolve(Body):
    """An add-on to find: an id, a name, an attachment name on ``app``, or ``app::attachment``;
    optionally of one service."""

    addon: str
    app: str | None = None
    addon_service: str | None = None


class AddOnUpdate(Body):
    """The plan to move to."""

    plan: str

    _plan = field_validator("plan", mode="before")(_plan_identity)


def present_addon(addon: AddOn, state: str = "provisioned") -> AddOnOut:
    """An add-on in Heroku's shape."""
    plan = PLANS_BY_ID[addon.plan_id]
    return AddOnOut(
        actions=[],
        addon_service=IdName(id=plan.service.id, name=plan.service.name),
        billing_entity=BillingEntity(id=addon.app.id, name=addon.app.name, type="app"),
        app=IdName(id=addon.app.id, name=addon.app.name),
        billed_price=BilledPrice(cents=plan.cents, contract=False, unit="month"),
        config_vars=addon_config_vars(addon),
        created_at=isoformat(addon.created_at) or "",
        id=addon.id,
        name=addon.name,
        plan=IdName(id=plan.id, name=plan.name),
        provider_id=addon.provider_id,
        provision_message=PROVISION_MESSAGE,
        state=state,
        updated_at=isoformat(addon.updated_at) or "",
        web_url=None,
    )


@router.get("/apps/{app_identity}/addons", response_model=list[AddOnOut], summary="Add-on list")
async def list_addons(
    app_identity: str, caller: CallerDep, session: SessionDep, range_header: RangeHeader = None
) -> JSONResponse:
    """The app's add-ons."""
    app = find_app(session, caller.app_access, app_identity)
    requested = parse_range(range_header, SORTABLE, "id")
    page = paginate(session, addons_of(app), COLUMNS, requested)
    return list_response(page, present_addon, SORTABLE)


@router.get("/addons", response_model=list[AddOnOut], summary="Add-on list")
async def list_all_addons(
    caller: CallerDep, session: SessionDep, range_header: RangeHeader = None
) -> JSONResponse:
    """The add-ons of every app the caller owns or collaborates on."""
    requested = parse_range(range_header, SORTABLE, "id")
    page = paginate(session, visible_addons(caller.app_access), COLUMNS, requested)
    return list_response(page, present_addon, SORTABLE)


@router.post("/actions/addons/resolve", response_model=list[AddOnOut], summary="Add-on resolution")
async def resolve_addon(
    body: AddOnResolve, caller: CallerDep, session: SessionDep
) -> list[AddOnOut]:
    """The add-ons an identifier names (what ``heroku addons:info`` and ``addons:destroy`` look
    up); 404 with resource ``add_on`` when none does."""
    found = resolve_addons(
        session, caller.app_access, body.addon, app=body.app, service=body.addon_service
    )
    return [present_addon(addon) for addon in found]


@router.post(
    "/apps/{app_identity}/addons",
    response_model=AddOnOut,
    status_code=201,
    summary="Add-on create",
)
async def post_addon(
    app_identity: str, body: AddOnCreate, caller: CallerDep, session: SessionDep
) -> AddOnOut:
    """Provision an add-on from the built-in catalogue."""
    app = find_app(session, caller.app_access, app_identity, for_update=True)
    addon = create_addon(
        session, caller.context, app, plan=body.plan, name=body.name, actor_id=caller.account_id
    )
    return present_addon(addon)


@router.get(
    "/apps/{app_identity}/addons/{addon_identity}", response_model=AddOnOut, summary="Add-on info"
)
async def get_addon(
    app_identity: str, addon_identity: str, caller: CallerDep, session: SessionDep
) -> AddOnOut:
    """An add-on of the app by id or name."""
    app = find_app(session, caller.app_access, app_identity)
    return present_addon(find_addon(session, app, addon_identity))


@router.patch(
    "/apps/{app_identity}/addons/{addon_identity}",
    response_model=AddOnOut,
    summary="Add-on update",
)
async def patch_addon(
    app_identity: str,
    addon_identity: str,
    body: AddOnUpdate,
    caller: CallerDep,
    session: SessionDep,
) -> AddOnOut:
    """Change an add-on's plan."""
    app = find_app(session, caller.app_access, app_identity, for_update=True)
    addon = find_addon(session, app, addon_identity)
    change_plan(session, caller.context, addon, plan=body.plan, actor_id=caller.account_id)
    session.flush()
    return present_addon(addon)


@router.delete(
    "/apps/{app_identity}/addons/{addon_identity}",
    response_model=AddOnOut,
    summary="Add-on delete",
)
async def remove_addon(
    app_identity: str, addon_identity: str, caller: CallerDep, session: SessionDep
) -> AddOnOut:
    """Deprovision an add-on; answers with it, marked ``deprovisioned``."""
    app = find_app(session, caller.app_access, app_identity, for_update=True)
    addon = find_addon(session, app, addon_identity)
    shown = present_addon(addon, state="deprovisioned")
    delete_addon(session, caller.context, addon, actor_id=caller.account_id)
    return shown
