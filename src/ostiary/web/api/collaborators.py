"""The collaborator resource: ``/apps/{app}/collaborators`` (schema definition ``collaborator``).

As on Heroku, the list includes the app's owner with role ``owner`` (``heroku access`` shows it;
``heroku apps:info`` leaves it out of its Collaborators line by the owner's email). Entries carry
no ``permissions``: those are a Heroku Teams feature, and the heroku CLI shows a permissions
column whenever the key is present, which Heroku never shows for a personal app.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from ostiary.apps.members import (
    Member,
    collaborator_entry,
    find_member,
    owner_entry,
    removable,
)
from ostiary.apps.models import Collaborator
from ostiary.apps.queries import collaborators_of, find_app
from ostiary.apps.services import add_collaborator, remove_collaborator
from ostiary.clock import isoformat
from ostiary.web.api.deps import CallerDep, SessionDep, UnitDep
from ostiary.web.api.ranges import (
    Page,
    Range,
    RangeHeader,
    list_response,
    paginate,
    parse_range,
)
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
    role: str | None
    updated_at: Timestamp
    user: CollaboratorUser


class CollaboratorCreate(Body):
    """Whom to share the app with: an email or an account id."""

    user: str
    silent: bool = False


def present_collaborator(member: Member) -> CollaboratorOut:
    """An entry of the collaborator list (the owner or a collaborator) in Heroku's shape."""
    return CollaboratorOut(
        app=IdName(id=member.app.id, name=member.app.name),
        created_at=isoformat(member.created_at) or "",
        id=member.id,
        role=member.role,
        updated_at=isoformat(member.updated_at) or "",
        user=CollaboratorUser(email=member.account.email, federated=False, id=member.account.id),
    )


def _within(requested: Range, value: str) -> bool:
    # The same bounds ``paginate`` puts on the query, for the one entry that has no row.
    start, end = requested.start, requested.end
    if start is not None:
        if requested.descending:
            if value > start or (requested.start_exclusive and value == start):
                return False
        elif value < start or (requested.start_exclusive and value == start):
            return False
    if end is not None:
        return value >= end if requested.descending else value <= end
    return True


def with_owner(page: Page[Collaborator], owner: Member) -> Page[Member]:
    """A page of collaborators with the owner's entry merged in where its id sorts, so Range
    pagination over the list stays exact."""
    requested = page.range
    members = [collaborator_entry(row) for row in page.items]
    has_more = page.has_more
    if _within(requested, owner.id):
        members = sorted([*members, owner], key=lambda m: m.id, reverse=requested.descending)
        if len(members) > requested.max:
            members, has_more = members[: requested.max], True
    return Page(
        items=members,
        range=requested,
        first_value=members[0].id if members else None,
        last_value=members[-1].id if members else None,
        has_more=has_more,
    )


@router.get(
    "/apps/{app_identity}/collaborators",
    response_model=list[CollaboratorOut],
    summary="Collaborator list",
)
async def list_collaborators(
    app_identity: str, caller: CallerDep, session: SessionDep, range_header: RangeHeader = None
) -> JSONResponse:
    """Who has access to the app: its owner (role ``owner``) and its collaborators."""
    app = find_app(session, caller.app_access, app_identity)
    requested = parse_range(range_header, SORTABLE, "id")
    page = paginate(session, collaborators_of(app), COLUMNS, requested)
    return list_response(with_owner(page, owner_entry(app)), present_collaborator, SORTABLE)


@router.post(
    "/apps/{app_identity}/collaborators",
    response_model=CollaboratorOut,
    status_code=201,
    summary="Collaborator create",
)
async def post_collaborator(
    app_identity: str, body: CollaboratorCreate, caller: CallerDep, unit: UnitDep
) -> CollaboratorOut:
    """Share the app with an account (owner only)."""
    app = find_app(unit.session, caller.app_access, app_identity)
    collaborator = add_collaborator(unit, app, body.user, actor_id=caller.account_id)
    return present_collaborator(collaborator_entry(collaborator))


@router.get(
    "/apps/{app_identity}/collaborators/{collaborator_identity}",
    response_model=CollaboratorOut,
    summary="Collaborator info",
)
async def get_collaborator(
    app_identity: str, collaborator_identity: str, caller: CallerDep, session: SessionDep
) -> CollaboratorOut:
    """An entry (the owner's or a collaborator's) by its id, or by the account's email or id."""
    app = find_app(session, caller.app_access, app_identity)
    return present_collaborator(find_member(session, app, collaborator_identity))


@router.delete(
    "/apps/{app_identity}/collaborators/{collaborator_identity}",
    response_model=CollaboratorOut,
    summary="Collaborator delete",
)
async def delete_collaborator(
    app_identity: str, collaborator_identity: str, caller: CallerDep, unit: UnitDep
) -> CollaboratorOut:
    """Stop sharing the app with an account (owner only); answers with the removed one. The
    owner's own entry cannot be removed (403)."""
    app = find_app(unit.session, caller.app_access, app_identity)
    member = find_member(unit.session, app, collaborator_identity)
    collaborator = removable(member)
    shown = present_collaborator(member)
    remove_collaborator(unit, app, collaborator, actor_id=caller.account_id)
    return shown
