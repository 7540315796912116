"""The add-on resource: ``/apps/{app}/addons``, ``/addons`` and ``/actions/addons/resolve``
(schema definition ``add-on``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
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
from ostiary.apps.queries import find_app
from ostiary.apps.resolve import resolve_addons, visible_addons
from ostiary.clock import isoformat
from ostiary.web.api.deps import CallerDep, SessionDep, UnitDep
from ostiary.web.api.ranges import RangeHeader, list_response, paginate, parse_range
from ostiary.web.api.shapes import Body, IdName, Timestamp

router = APIRouter(tags=["add-on"])

PROVISION_MESSAGE = "Recorded by Ostiary: add-ons are catalogue records; nothing was provisioned."
SORTABLE = ("id", "name")

# Heroku's ``Accept-Expansion`` names references to answer in full; the heroku CLI asks for
# ``plan`` to show prices. Ostiary expands ``plan`` with its price; other names are ignored.
ExpansionHeader = Annotated[
    str | None, Header(alias="Accept-Expansion", description="`plan` adds the plan's price")
]
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


class ExpandedPlan(IdName):
    """A plan reference expanded with its price (``Accept-Expansion: plan``)."""

    price: BilledPrice


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
    plan: ExpandedPlan | IdName
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


def expands_plan(header: str | None) -> bool:
    """Whether an ``Accept-Expansion`` header asks for the plan."""
    return "plan" in {name.strip() for name in (header or "").split(",")}


def present_addon(
    addon: AddOn, state: str = "provisioned", *, expand_plan: bool = False
) -> AddOnOut:
    """An add-on in Heroku's shape."""
    plan = PLANS_BY_ID[addon.plan_id]
    price = BilledPrice(cents=plan.cents, contract=False, unit="month")
    return AddOnOut(
        actions=[],
        addon_service=IdName(id=plan.service.id, name=plan.service.name),
        billing_entity=BillingEntity(id=addon.app.id, name=addon.app.name, type="app"),
        app=IdName(id=addon.app.id, name=addon.app.name),
        billed_price=price,
        config_vars=addon_config_vars(addon),
        created_at=isoformat(addon.created_at) or "",
        id=addon.id,
        name=addon.name,
        plan=(
            ExpandedPlan(id=plan.id, name=plan.name, price=price)
            if expand_plan
            else IdName(id=plan.id, name=plan.name)
        ),
        provider_id=addon.provider_id,
        provision_message=PROVISION_MESSAGE,
        state=state,
        updated_at=isoformat(addon.updated_at) or "",
        web_url=None,
    )


@router.get("/apps/{app_identity}/addons", response_model=list[AddOnOut], summary="Add-on list")
async def list_addons(
    app_identity: str,
    caller: CallerDep,
    session: SessionDep,
    range_header: RangeHeader = None,
    expansion: ExpansionHeader = None,
) -> JSONResponse:
    """The app's add-ons."""
    app = find_app(session, caller.app_access, app_identity)
    requested = parse_range(range_header, SORTABLE, "id")
    page = paginate(session, addons_of(app), COLUMNS, requested)
    expand = expands_plan(expansion)
    return list_response(page, lambda addon: present_addon(addon, expand_plan=expand), SORTABLE)


@router.get("/addons", response_model=list[AddOnOut], summary="Add-on list")
async def list_all_addons(
    caller: CallerDep,
    session: SessionDep,
    range_header: RangeHeader = None,
    expansion: ExpansionHeader = None,
) -> JSONResponse:
    """The add-ons of every app the caller owns or collaborates on."""
    requested = parse_range(range_header, SORTABLE, "id")
    page = paginate(session, visible_addons(caller.app_access), COLUMNS, requested)
    expand = expands_plan(expansion)
    return list_response(page, lambda addon: present_addon(addon, expand_plan=expand), SORTABLE)


@router.post("/actions/addons/resolve", response_model=list[AddOnOut], summary="Add-on resolution")
async def resolve_addon(
    body: AddOnResolve, caller: CallerDep, session: SessionDep, expansion: ExpansionHeader = None
) -> list[AddOnOut]:
    """The add-ons an identifier names (what ``heroku addons:info`` and ``addons:destroy`` look
    up); 404 with resource ``add_on`` when none does."""
    found = resolve_addons(
        session, caller.app_access, body.addon, app=body.app, service=body.addon_service
    )
    expand = expands_plan(expansion)
    return [present_addon(addon, expand_plan=expand) for addon in found]


@router.post(
    "/apps/{app_identity}/addons",
    response_model=AddOnOut,
    status_code=201,
    summary="Add-on create",
)
async def post_addon(
    app_identity: str,
    body: AddOnCreate,
    caller: CallerDep,
    unit: UnitDep,
    expansion: ExpansionHeader = None,
) -> AddOnOut:
    """Provision an add-on from the built-in catalogue."""
    app = find_app(unit.session, caller.app_access, app_identity, for_update=True)
    addon = create_addon(unit, app, plan=body.plan, name=body.name, actor_id=caller.account_id)
    return present_addon(addon, expand_plan=expands_plan(expansion))


@router.get(
    "/apps/{app_identity}/addons/{addon_identity}", response_model=AddOnOut, summary="Add-on info"
)
async def get_addon(
    app_identity: str,
    addon_identity: str,
    caller: CallerDep,
    session: SessionDep,
    expansion: ExpansionHeader = None,
) -> AddOnOut:
    """An add-on of the app by id or name."""
    app = find_app(session, caller.app_access, app_identity)
    addon = find_addon(session, app, addon_identity)
    return present_addon(addon, expand_plan=expands_plan(expansion))


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
    unit: UnitDep,
    expansion: ExpansionHeader = None,
) -> AddOnOut:
    """Change an add-on's plan."""
    app = find_app(unit.session, caller.app_access, app_identity, for_update=True)
    addon = find_addon(unit.session, app, addon_identity)
    change_plan(unit, addon, plan=body.plan, actor_id=caller.account_id)
    unit.session.flush()
    return present_addon(addon, expand_plan=expands_plan(expansion))


@router.delete(
    "/apps/{app_identity}/addons/{addon_identity}",
    response_model=AddOnOut,
    summary="Add-on delete",
)
async def remove_addon(
    app_identity: str, addon_identity: str, caller: CallerDep, unit: UnitDep
) -> AddOnOut:
    """Deprovision an add-on; answers with it, marked ``deprovisioned``."""
    app = find_app(unit.session, caller.app_access, app_identity, for_update=True)
    addon = find_addon(unit.session, app, addon_identity)
    shown = present_addon(addon, state="deprovisioned")
    delete_addon(unit, addon, actor_id=caller.account_id)
    return shown
