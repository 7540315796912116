"""The config-var resource: ``/apps/{app}/config-vars`` (schema definition ``config-var``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body

from ostiary.apps.config_vars import config_of, update_config
from ostiary.apps.queries import find_app
from ostiary.errors import InvalidParams
from ostiary.web.api.deps import CallerDep, SessionDep, UnitDep

router = APIRouter(tags=["config-var"])

ConfigVars = dict[str, str]


@router.get(
    "/apps/{app_identity}/config-vars", response_model=ConfigVars, summary="Config vars info"
)
async def get_config_vars(app_identity: str, caller: CallerDep, session: SessionDep) -> ConfigVars:
    """The app's config vars as a flat map."""
    return config_of(session, find_app(session, caller.app_access, app_identity))


@router.patch(
    "/apps/{app_identity}/config-vars", response_model=ConfigVars, summary="Config vars update"
)
async def patch_config_vars(
    app_identity: str,
    caller: CallerDep,
    unit: UnitDep,
    changes: dict[str, Any] = Body(
        ..., examples=[{"FOO": "bar", "OLD": None}], description="`null` removes a var"
    ),
) -> ConfigVars:
    """Set and unset config vars (``null`` unsets); answers with the whole new map."""
    if not isinstance(changes, dict):
        raise InvalidParams("body", "Config vars must be a JSON object of names to values.")
    app = find_app(unit.session, caller.app_access, app_identity, for_update=True)
    return update_config(unit, app, changes, actor_id=caller.account_id)
