"""The app resource: ``/apps`` and ``/users/~/apps`` (Heroku schema definition ``app``)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ostiary.apps.catalog import REGIONS, STACKS
from ostiary.apps.models import App
from ostiary.apps.queries import find_app, visible_apps
from ostiary.apps.services import create_app, delete_app, update_app
from ostiary.clock import isoformat
from ostiary.config import Settings
from ostiary.errors import NotFound
from ostiary.web.api.deps import CallerDep, ServicesDep, SessionDep, UnitDep
from ostiary.web.api.ranges import RangeHeader, list_response, paginate, parse_range
from ostiary.web.api.shapes import Body, IdEmail, IdName, Timestamp

router = APIRouter(tags=["app"])

SORTABLE = ("id", "name")
COLUMNS = {"id": App.id, "name": App.name}


class AppOut(BaseModel):
    """An app, in Heroku's shape."""

    acm: bool
    archived_at: Timestamp | None
    buildpack_provided_description: str | None
    build_stack: IdName
    created_at: Timestamp
    # Not in the published schema, but on every Heroku app: the heroku CLI's apps:info prints
    # "Create Status" (and --shell "create_status=undefined") unless it is "complete".
    create_status: str
    generation: IdName
    git_url: str
    id: str
    internal_routing: bool | None
    maintenance: bool
    name: str
    owner: IdEmail
    organization: IdName | None
    team: IdName | None
    region: IdName
    released_at: Timestamp | None
    repo_size: int | None
    slug_size: int | None
    space: IdName | None
    stack: IdName
    updated_at: Timestamp
    web_url: str


class AppCreate(Body):
    """What a new app may be given; everything is optional."""

    name: str | None = None
    region: str | None = None
    stack: str | None = None


class AppUpdate(Body):
    """What may change on an app."""

    name: str | None = None
    maintenance: bool | None = None
    build_stack: str | None = None


_GENERATION = IdName(id="d5ff2b2a-2d4c-4e6b-9a4d-6e5f4b2a1c0e", name="cedar")


def present_app(app: App, settings: Settings) -> AppOut:
    """An app in Heroku's shape, with URLs on the configured apps domain and git host."""
    region = REGIONS[app.region]
    stack = STACKS[app.stack]
    stack_ref = IdName(id=stack.id, name=stack.name)
    return AppOut(
        acm=False,
        create_status="complete",
        archived_at=None,
        buildpack_provided_description=None,
        build_stack=stack_ref,
        created_at=isoformat(app.created_at) or "",
        generation=_GENERATION,
        git_url=f"https://{settings.git_host}/{app.name}.git",
        id=app.id,
        internal_routing=None,
        maintenance=app.maintenance,
        name=app.name,
        owner=IdEmail(id=app.owner.id, email=app.owner.email),
        organization=None,
        team=None,
        region=IdName(id=region.id, name=region.name),
        released_at=isoformat(app.released_at),
        repo_size=None,
        slug_size=None,
        space=None,
        stack=stack_ref,
        updated_at=isoformat(app.updated_at) or "",
        web_url=f"https://{app.name}.{settings.apps_domain}/",
    )


async def _list(
    caller: CallerDep, session: SessionDep, services: ServicesDep, range_header: str | None
) -> JSONResponse:
    requested = parse_range(range_header, SORTABLE, "id")
    page = paginate(session, visible_apps(caller.app_access), COLUMNS, requested)
    settings = services.settings
    return list_response(page, lambda app: present_app(app, settings), SORTABLE)


@router.get("/apps", response_model=list[AppOut], summary="App list")
async def list_apps(
    caller: CallerDep, session: SessionDep, services: ServicesDep, range_header: RangeHeader = None
) -> JSONResponse:
    """The apps the caller owns or collaborates on."""
    return await _list(caller, session, services, range_header)


@router.get(
    "/users/{account_identity}/apps",
    response_model=list[AppOut],
    summary="App list owned and collaborated",
)
async def list_user_apps(
    account_identity: str,
    caller: CallerDep,
    session: SessionDep,
    services: ServicesDep,
    range_header: RangeHeader = None,
) -> JSONResponse:
    """The apps the caller owns or collaborates on, addressed through its user (``~``)."""
    account = caller.principal.account
    if account_identity not in ("~", account.id, account.email):
        raise NotFound("user")
    return await _list(caller, session, services, range_header)


@router.post("/apps", response_model=AppOut, status_code=201, summary="App create")
async def post_app(
    caller: CallerDep, unit: UnitDep, services: ServicesDep, body: AppCreate | None = None
) -> AppOut:
    """Create an app; a name is generated when none is given."""
    body = body or AppCreate()
    app = create_app(
        unit,
        owner_id=caller.account_id,
        authorization_id=caller.principal.authorization_id,
        name=body.name,
        region=body.region,
        stack=body.stack,
    )
    unit.session.refresh(app)
    return present_app(app, services.settings)


@router.get("/apps/{app_identity}", response_model=AppOut, summary="App info")
async def get_app(
    app_identity: str, caller: CallerDep, session: SessionDep, services: ServicesDep
) -> AppOut:
    """An app by id or name."""
    app = find_app(session, caller.app_access, app_identity)
    return present_app(app, services.settings)


@router.patch("/apps/{app_identity}", response_model=AppOut, summary="App update")
async def patch_app(
    app_identity: str,
    body: AppUpdate,
    caller: CallerDep,
    unit: UnitDep,
    services: ServicesDep,
) -> AppOut:
    """Rename an app, toggle maintenance mode or change its build stack."""
    app = find_app(unit.session, caller.app_access, app_identity, for_update=True)
    update_app(
        unit,
        app,
        actor_id=caller.account_id,
        name=body.name,
        maintenance=body.maintenance,
        build_stack=body.build_stack,
    )
    unit.session.flush()
    return present_app(app, services.settings)


@router.delete("/apps/{app_identity}", response_model=AppOut, summary="App delete")
async def remove_app(
    app_identity: str, caller: CallerDep, unit: UnitDep, services: ServicesDep
) -> AppOut:
    """Delete an app (owner only); answers with the deleted app."""
    app = find_app(unit.session, caller.app_access, app_identity, for_update=True)
    shown = present_app(app, services.settings)
    delete_app(unit, app, actor_id=caller.account_id)
    return shown
