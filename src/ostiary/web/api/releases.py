"""The release resource: ``/apps/{app}/releases`` (schema definition ``release``)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ostiary.apps.models import Release
from ostiary.apps.queries import find_app
from ostiary.apps.releases import find_release, latest_version, releases_of
from ostiary.clock import isoformat
from ostiary.web.api.deps import CallerDep, SessionDep
from ostiary.web.api.ranges import RangeHeader, list_response, paginate, parse_range
from ostiary.web.api.shapes import IdEmail, IdName, IdOnly, Timestamp

router = APIRouter(tags=["release"])

SORTABLE = ("version", "id")
COLUMNS = {"version": Release.version, "id": Release.id}


class ReleaseOut(BaseModel):
    """A release, in Heroku's shape."""

    addon_plan_names: list[str]
    artifacts: list[dict[str, str]]
    app: IdName
    created_at: Timestamp
    description: str
    id: str
    updated_at: Timestamp
    slug: IdOnly | None
    status: str
    user: IdEmail
    version: int
    current: bool
    output_stream_url: str | None
    eligible_for_rollback: bool


_DELETED_USER = IdEmail(id="00000000-0000-0000-0000-000000000000", email="deleted-user")


def present_release(release: Release, current_version: int) -> ReleaseOut:
    """A release in Heroku's shape; ``current`` marks the latest."""
    user = release.user
    return ReleaseOut(
        addon_plan_names=release.addon_plan_names,
        artifacts=[],
        app=IdName(id=release.app.id, name=release.app.name),
        created_at=isoformat(release.created_at) or "",
        description=release.description,
        id=release.id,
        updated_at=isoformat(release.updated_at) or "",
        slug=None,
        status="succeeded",
        user=IdEmail(id=user.id, email=user.email) if user else _DELETED_USER,
        version=release.version,
        current=release.version == current_version,
        output_stream_url=None,
        eligible_for_rollback=release.version != current_version,
    )


@router.get(
    "/apps/{app_identity}/releases", response_model=list[ReleaseOut], summary="Release list"
)
async def list_releases(
    app_identity: str, caller: CallerDep, session: SessionDep, range_header: RangeHeader = None
) -> JSONResponse:
    """The app's releases; ``Range: version ..; order=desc, max=1`` gives the latest."""
    app = find_app(session, caller.app_access, app_identity)
    requested = parse_range(range_header, SORTABLE, "version")
    page = paginate(session, releases_of(app), COLUMNS, requested)
    current = latest_version(session, app)
    return list_response(page, lambda release: present_release(release, current), SORTABLE)


@router.get(
    "/apps/{app_identity}/releases/{release_identity}",
    response_model=ReleaseOut,
    summary="Release info",
)
async def get_release(
    app_identity: str, release_identity: str, caller: CallerDep, session: SessionDep
) -> ReleaseOut:
    """A release by version number or id."""
    app = find_app(session, caller.app_access, app_identity)
    release = find_release(session, app, release_identity)
    return present_release(release, latest_version(session, app))


@router.get(
    "/apps/{app_identity}/releases/{release_identity}/config-vars",
    response_model=dict[str, str],
    tags=["config-var"],
    summary="Config vars info for app release",
)
async def get_release_config_vars(
    app_identity: str, release_identity: str, caller: CallerDep, session: SessionDep
) -> dict[str, str]:
    """The app's config vars as that release left them (what ``heroku releases:info`` shows)."""
    app = find_app(session, caller.app_access, app_identity)
    return dict(find_release(session, app, release_identity).config_vars)
