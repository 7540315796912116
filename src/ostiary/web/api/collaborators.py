"""The collaborator resource: ``/apps/{app}/collaborators`` (schema definition ``collaborator``)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ostiary.apps.models import Collaborator
from ostiary.apps.services import (
    add_collaborator,
    collaborators_of,
    find_collaborator,
    remove_collaborator,
)
from ostiary.apps.stores import find_app
from ostiary.clock import isoformat
from ostiary.web.api.deps import CallerDep, SessionDep
from ostiary.web.api.ranges import RangeHeader, list_response, paginate, parse_range
from ostiary.web.api.shapes import Body, IdName, Timestamp

router = APIRouter(tags=["collaborator"])

SORTABLE = ("id",)
COLUMNS = {"id": Collaborator.id}


class CollaboratorUser(BaseModel):
    """The collaborating account."""

    email: str
    federated: bool
    id: str


class CollaboratorOut(BaseModel):
    """A collaborator, in Heroku's shape."""

    app: IdName
    created_at: Timestamp
    id: str
    permissions: list[dict[str, str]]
    role: str | None
    updated_at: Timestamp
    user: CollaboratorUser


class CollaboratorCreate(Body):
    """Whom to share the app with: an email or an account id."""

    user: str
    silent: bool = False


def present_collaborator(collaborator: Collaborator) -> CollaboratorOut:
    """A collaborator in Heroku's shape."""
    return CollaboratorOut(
        app=IdName(id=collaborator.app.id, name=collaborator.app.name),
        created_at=isoformat(collaborator.created_at) or "",
        id=collaborator.id,
        permissions=[],
        role="collaborator",
        updated_at=isoformat(collaborator.updated_at) or "",
        user=CollaboratorUser(
            email=collaborator.account.email, federated=False, id=collaborator.account.id
        ),
    )


@router.get(
    "/apps/{app_identity}/collaborators",
    response_model=list[CollaboratorOut],
    summary="Collaborator list",
)
async def list_collaborators(
    app_identity: str, caller: CallerDep, session: SessionDep, range_header: RangeHeader = None
) -> JSONResponse:
    """The app's collaborators (the owner is not one)."""
    app = find_app(session, caller.app_access, app_identity)
    requested = parse_range(range_header, SORTABLE, "id")
    page = paginate(session, collaborators_of(app), COLUMNS, requested)
    return list_response(page, present_collaborator, SORTABLE)


@router.post(
    "/apps/{app_identity}/collaborators",
    response_model=CollaboratorOut,
    status_code=201,
    summary="Collaborator create",
)
async def post_collaborator(
    app_identity: str, body: CollaboratorCreate, caller: CallerDep, session: SessionDep
) -> CollaboratorOut:
    """Share the app with an account (owner only)."""
    app = find_app(session, caller.app_access, app_identity)
    collaborator = add_collaborator(
        session, caller.context, app, body.user, actor_id=caller.account_id
    )
    return present_collaborator(collaborator)


@router.get(
    "/apps/{app_identity}/collaborators/{collaborator_identity}",
    response_model=CollaboratorOut,
    summary="Collaborator info",
)
async def get_collaborator(
    app_identity: str, collaborator_identity: str, caller: CallerDep, session: SessionDep
) -> CollaboratorOut:
    """A collaborator by its id, or by the account's email or id."""
    app = find_app(session, caller.app_access, app_identity)
    return present_collaborator(find_collaborator(session, app, collaborator_identity))


@router.delete(
    "/apps/{app_identity}/collaborators/{collaborator_identity}",
    response_model=CollaboratorOut,
    summary="Collaborator delete",
)
async def delete_collaborator(
    app_identity: str, collaborator_identity: str, caller: CallerDep, session: SessionDep
) -> CollaboratorOut:
    """Stop sharing the app with an account (owner only); answers with the removed one."""
    app = find_app(session, caller.app_access, app_identity)
    collaborator = find_collaborator(session, app, collaborator_identity)
    shown = present_collaborator(collaborator)
    remove_collaborator(session, caller.context, app, collaborator, actor_id=caller.account_id)
    return shown
