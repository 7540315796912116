"""Apps: the ones the account owns or collaborates on, and each one's collaborators, add-ons and
config vars (masked until revealed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from ostiary.apps.addons import addons_of
from ostiary.apps.catalog import PLANS_BY_ID
from ostiary.apps.config_vars import config_of
from ostiary.apps.models import App
from ostiary.apps.queries import collaborators_of, find_app, visible_apps
from ostiary.apps.records import AppAccess
from ostiary.web.dashboard.pages import PREFIX, Visitor, render, show

router = APIRouter(include_in_schema=False)
APPS = f"{PREFIX}/apps"


def _plan_name(plan_id: str) -> str:
    plan = PLANS_BY_ID.get(plan_id)
    return plan.name if plan else ""


@router.get(APPS)
async def apps_page(request: Request) -> Response:
    """Every app the account may see."""

    def build(session: Session, visitor: Visitor) -> Response:
        apps = session.scalars(visible_apps(AppAccess(visitor.account.id)).order_by(App.name)).all()
        return render(request, visitor, "apps.html", apps=apps)

    return show(request, build)


@router.get(f"{APPS}/{{name}}")
async def app_page(request: Request, name: str) -> Response:
    """One app."""

    def build(session: Session, visitor: Visitor) -> Response:
        app = find_app(session, AppAccess(visitor.account.id), name)
        return render(
            request,
            visitor,
            "app.html",
            app=app,
            collaborators=session.scalars(collaborators_of(app)).all(),
            addons=[(a.name, _plan_name(a.plan_id)) for a in session.scalars(addons_of(app))],
            config=sorted(config_of(session, app).items()),
        )

    return show(request, build)
