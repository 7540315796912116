"""The pipeline coupling of an app: ``/apps/{app}/pipeline-couplings`` (schema definition
``pipeline-coupling``).

Ostiary has no pipelines. Heroku answers this route for an app outside any pipeline with 404
``not_found``, and the heroku CLI reads that as "no pipeline" (``apps:info`` prints no Pipeline
line; a ``200 []`` would make it crash), so an app the caller may see gets that 404, naming the
resource ``pipeline_coupling``; an app it may not see gets the usual 404 naming ``app``.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from ostiary.apps.queries import find_app
from ostiary.errors import NotFound
from ostiary.web.api.deps import CallerDep, SessionDep
from ostiary.web.api.shapes import IdOnly, Timestamp

router = APIRouter(tags=["pipeline-coupling"])

RESOURCE = "pipeline_coupling"


class PipelineCouplingOut(BaseModel):
    """A pipeline coupling, in Heroku's shape (declared for the OpenAPI document)."""

    app: IdOnly
    created_at: Timestamp
    id: str
    pipeline: IdOnly
    stage: str
    updated_at: Timestamp


class NotFoundOut(BaseModel):
    """The API's 404 body."""

    id: str
    message: str
    resource: str


@router.get(
    "/apps/{app_identity}/pipeline-couplings",
    response_model=PipelineCouplingOut,
    responses={404: {"model": NotFoundOut, "description": "The app is not in a pipeline"}},
    summary="Pipeline coupling info by app",
)
async def get_pipeline_coupling(
    app_identity: str, caller: CallerDep, session: SessionDep
) -> PipelineCouplingOut:
    """The app's pipeline coupling: 404 ``not_found`` (resource ``pipeline_coupling``), as
    Heroku answers for an app that is in no pipeline."""
    find_app(session, caller.app_access, app_identity)
    raise NotFound(RESOURCE, "Couldn't find that pipeline coupling.")
