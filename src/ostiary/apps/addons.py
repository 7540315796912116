"""Add-ons: records of plans from the built-in catalogue, provisioned at once."""

from __future__ import annotations

import re
import secrets

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ostiary.apps.catalog import PLANS_BY_ID, Plan, find_plan
from ostiary.apps.models import AddOn, App
from ostiary.apps.releases import create_release
from ostiary.errors import Conflict, InvalidParams, NotFound
from ostiary.unit import Unit

ADDON_NAME_PATTERN = re.compile(r"^[a-zA-Z][A-Za-z0-9_-]+$")
_WORDS = ("clear", "curved", "dimensional", "elliptical", "fluffy", "opaque", "rigid", "round")


def addons_of(app: App) -> Select[AddOn]:
    """The app's add-ons, as a query for pagination."""
    return select(AddOn).where(AddOn.app_id == app.id)


def find_addon(session: Session, app: App, identity: str) -> AddOn:
    """An add-on of the app by id or name."""
    addon = session.scalar(addons_of(app).where((AddOn.id == identity) | (AddOn.name == identity)))
    if addon is None:
        raise NotFound("add-on")
    return addon


def addon_config_vars(addon: AddOn) -> list[str]:
    """The config vars an add-on sets: its service's, named after its attachment."""
    service = PLANS_BY_ID[addon.plan_id].service
    return [
        addon.attachment_name + name.removeprefix(service.attachment)
        for name in service.config_vars
    ]


def _attachment_name(session: Session, app: App, plan: Plan) -> str:
    # Unique within the app, as Heroku's attachment names are: the first add-on of a service
    # takes the plain name, later ones a number.
    taken = set(session.scalars(select(AddOn.attachment_name).where(AddOn.app_id == app.id)))
    base = name = plan.service.attachment
    number = 1
    while name in taken:
        number += 1
        name = f"{base}_{number}"
    return name


def _plan(identity: str) -> Plan:
    plan = find_plan(identity)
    if plan is None:
        raise InvalidParams(
            "plan", f"Couldn't find either the add-on service or plan {identity!r}."
        )
    return plan


def _name_for(session: Session, plan: Plan, requested: str | None) -> str:
    if requested:
        if not ADDON_NAME_PATTERN.match(requested) or len(requested) > 64:
            raise InvalidParams(
                "name",
                "Add-on names start with a letter and use letters, digits, dashes and underscores.",
            )
        if session.scalar(select(AddOn.id).where(AddOn.name == requested)) is not None:
            raise Conflict(f"The add-on name {requested} is already taken.")
        return requested
    service = plan.service.name.removeprefix("heroku-")
    while True:
        name = f"{service}-{secrets.choice(_WORDS)}-{secrets.randbelow(90000) + 10000}"
        if session.scalar(select(AddOn.id).where(AddOn.name == name)) is None:
            return name


def create_addon(
    unit: Unit,
    app: App,
    *,
    plan: str,
    name: str | None,
    actor_id: str,
) -> AddOn:
    """Provision an add-on on an app; a release records the attachment."""
    session = unit.session
    chosen = _plan(plan)
    addon = AddOn(
        app=app,
        plan_id=chosen.id,
        name=_name_for(session, chosen, name),
        attachment_name=_attachment_name(session, app, chosen),
    )
    session.add(addon)
    session.flush()
    create_release(unit, app, f"Attach {addon.name} ({chosen.name})", actor_id)
    unit.record(
        "app:addon:create",
        actor_id=actor_id,
        target_type="addon",
        target_id=addon.id,
        details={"app_id": app.id, "plan": chosen.name},
    )
    return addon


def change_plan(unit: Unit, addon: AddOn, *, plan: str, actor_id: str) -> AddOn:
    """Move an add-on to another plan of the same service."""
    chosen = _plan(plan)
    current = find_plan(addon.plan_id)
    if current is not None and chosen.service != current.service:
        raise InvalidParams("plan", f"{chosen.name} is not a plan of {current.service.name}.")
    if chosen.id != addon.plan_id:
        addon.plan_id = chosen.id
        create_release(unit, addon.app, f"Upgrade {addon.name} to {chosen.name}", actor_id)
        unit.record(
            "app:addon:update",
            actor_id=actor_id,
            target_type="addon",
            target_id=addon.id,
            details={"plan": chosen.name},
        )
    return addon


def delete_addon(unit: Unit, addon: AddOn, *, actor_id: str) -> None:
    """Deprovision an add-on; a release records the detachment."""
    unit.session.delete(addon)
    unit.session.flush()
    create_release(unit, addon.app, f"Detach {addon.name}", actor_id)
    unit.record(
        "app:addon:destroy",
        actor_id=actor_id,
        target_type="addon",
        target_id=addon.id,
    )
