"""The dyno resource: ``/apps/{app}/dynos`` (schema definition ``dyno``).

Ostiary runs no code, so an app never has dynos: the list is empty, as Heroku's is for an app
that is scaled to zero or was never deployed (``heroku apps:info`` then shows no dynos).
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from ostiary.apps.queries import find_app
from ostiary.web.api.deps import CallerDep, SessionDep
from ostiary.web.api.shapes import IdName, Timestamp

router = APIRouter(tags=["dyno"])


class DynoRelease(BaseModel):
    """The release a dyno runs."""

    id: str
    version: int


class DynoOut(BaseModel):
    """A dyno, in Heroku's shape (declared for the OpenAPI document; none is ever listed)."""

    attach_url: str | None
    command: str
    created_at: Timestamp
    id: str
    name: str
    release: DynoRelease
    app: IdName
    size: str
    state: str
    type: str
    updated_at: Timestamp


@router.get("/apps/{app_identity}/dynos", response_model=list[DynoOut], summary="Dyno list")
async def list_dynos(app_identity: str, caller: CallerDep, session: SessionDep) -> list[DynoOut]:
    """The app's dynos: always none (404 for an app the caller may not see)."""
    find_app(session, caller.app_access, app_identity)
    return []
