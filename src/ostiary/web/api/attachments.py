"""The add-on attachment resource: ``/addon-attachments``, ``/apps/{app}/addon-attachments``,
``/addons/{addon}/addon-attachments`` and ``/actions/addon-attachments/resolve`` (schema
definition ``add-on-attachment``).

Each add-on has exactly one attachment, to its own app (Ostiary has no shared add-ons), so these
lists are the add-on lists seen as attachments.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Select
from sqlalchemy.orm import Session

from ostiary.apps.models import AddOn
from ostiary.apps.queries import find_app
from ostiary.apps.resolve import find_visible_addon, resolve_attachments, visible_addons
from ostiary.clock import isoformat
from ostiary.web.api.deps import CallerDep, SessionDep
from ostiary.web.api.ranges import RangeHeader, list_response, paginate, parse_range
from ostiary.web.api.shapes import Body, IdName, Timestamp

router = APIRouter(tags=["add-on-attachment"])

SORTABLE = ("id",)
COLUMNS = {"id": AddOn.attachment_id}


class AttachedAddOn(BaseModel):
    """The attached add-on and the app that bills for it."""

    id: str
    name: str
    app: IdName


class AttachmentOut(BaseModel):
    """An add-on attachment, in Heroku's shape."""

    addon: AttachedAddOn
    app: IdName
    created_at: Timestamp
    id: str
    name: str
    namespace: str | None
    updated_at: Timestamp
    web_url: str | None
    log_input_url: str | None


class AttachmentResolve(Body):
    """An attachment to find: its name on ``app``, ``app::NAME``, or its id."""

    addon_attachment: str
    app: str | None = None
    addon_service: str | None = None


def present_attachment(addon: AddOn) -> AttachmentOut:
    """An add-on's attachment to its own app, in Heroku's shape."""
    app = IdName(id=addon.app.id, name=addon.app.name)
    return AttachmentOut(
        addon=AttachedAddOn(id=addon.id, name=addon.name, app=app),
        app=app,
        created_at=isoformat(addon.created_at) or "",
        id=addon.attachment_id,
        name=addon.attachment_name,
        namespace=None,
        updated_at=isoformat(addon.updated_at) or "",
        web_url=None,
        log_input_url=None,
    )


def _listed(session: Session, query: Select[AddOn], range_header: str | None) -> JSONResponse:
    requested = parse_range(range_header, SORTABLE, "id")
    page = paginate(session, query, COLUMNS, requested)
    return list_response(page, present_attachment, SORTABLE)


@router.get(
    "/addon-attachments", response_model=list[AttachmentOut], summary="Add-on attachment list"
)
async def list_attachments(
    caller: CallerDep, session: SessionDep, range_header: RangeHeader = None
) -> JSONResponse:
    """The attachments on every app the caller owns or collaborates on."""
    return _listed(session, visible_addons(caller.app_access), range_header)


@router.get(
    "/apps/{app_identity}/addon-attachments",
    response_model=list[AttachmentOut],
    summary="Add-on attachment list by app",
)
async def list_app_attachments(
    app_identity: str, caller: CallerDep, session: SessionDep, range_header: RangeHeader = None
) -> JSONResponse:
    """The attachments on one app."""
    app = find_app(session, caller.app_access, app_identity)
    query = visible_addons(caller.app_access).where(AddOn.app_id == app.id)
    return _listed(session, query, range_header)


@router.get(
    "/addons/{addon_identity}/addon-attachments",
    response_model=list[AttachmentOut],
    summary="Add-on attachment list by add-on",
)
async def list_addon_attachments(
    addon_identity: str, caller: CallerDep, session: SessionDep, range_header: RangeHeader = None
) -> JSONResponse:
    """The attachments of one add-on (what ``heroku addons:info`` shows)."""
    addon = find_visible_addon(session, caller.app_access, addon_identity)
    query = visible_addons(caller.app_access).where(AddOn.id == addon.id)
    return _listed(session, query, range_header)


@router.post(
    "/actions/addon-attachments/resolve",
    response_model=list[AttachmentOut],
    summary="Add-on attachment resolution",
)
async def resolve_attachment(
    body: AttachmentResolve, caller: CallerDep, session: SessionDep
) -> list[AttachmentOut]:
    """The attachments an identifier names; 404 with resource ``add_on attachment`` when none
    does."""
    found = resolve_attachments(
        session, caller.app_access, body.addon_attachment, app=body.app, service=body.addon_service
    )
    return [present_attachment(addon) for addon in found]
