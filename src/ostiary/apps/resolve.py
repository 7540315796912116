"""Finding add-ons and their attachments across the apps a caller may see, as Heroku's
``/addons``, ``/addon-attachments`` and ``/actions/.../resolve`` do.

Every query here is limited to ``visible_apps``: an add-on on an app the caller may not see is
never listed and never resolved, so it answers exactly as one that does not exist.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, false, func, or_, select
from sqlalchemy.orm import Session

from ostiary.apps.catalog import PLANS_BY_ID
from ostiary.apps.models import AddOn, App
from ostiary.apps.queries import find_app, visible_apps
from ostiary.apps.records import AppAccess
from ostiary.errors import NotFound

# The resource names Heroku's 404s carry here; the heroku CLI's resolvers branch on them (a
# missing add-on on the named app makes it retry without the app).
ADDON_RESOURCE = "add_on"
ATTACHMENT_RESOURCE = "add_on attachment"


def visible_addons(access: AppAccess) -> Select[AddOn]:
    """Add-ons on every app the caller may see, as a query for pagination."""
    apps = visible_apps(access).with_only_columns(App.id).scalar_subquery()
    return select(AddOn).where(AddOn.app_id.in_(apps))


def find_visible_addon(session: Session, access: AppAccess, identity: str) -> AddOn:
    """An add-on by id or (globally unique) name on an app the caller may see."""
    addon = session.scalar(
        visible_addons(access).where((AddOn.id == identity) | (AddOn.name == identity))
    )
    if addon is None:
        raise NotFound("add-on")
    return addon


def _plan_ids_of(service: str | None) -> ColumnElement[bool] | None:
    if not service:
        return None
    ids = [plan.id for plan in PLANS_BY_ID.values() if plan.service.name == service]
    return AddOn.plan_id.in_(ids) if ids else false()


def _split(identity: str, app: str | None) -> tuple[str | None, str]:
    # ``app::name`` names the app in the identifier itself, as the heroku CLI accepts it.
    if "::" in identity:
        named_app, _, name = identity.partition("::")
        return named_app, name
    return app, identity


def resolve_addons(
    session: Session, access: AppAccess, identity: str, *, app: str | None, service: str | None
) -> list[AddOn]:
    """Add-ons matching an identifier: on ``app`` (when given), its add-ons by id or name and by
    attachment name; without one, by id or globally unique name. Never empty: 404 ``add_on``."""
    app_name, name = _split(identity, app)
    query = visible_addons(access)
    if app_name:
        on_app = find_app(session, access, app_name)
        query = query.where(
            AddOn.app_id == on_app.id,
            or_(
                AddOn.id == name,
                AddOn.name == name,
                func.upper(AddOn.attachment_name) == name.upper(),
            ),
        )
    else:
        query = query.where((AddOn.id == name) | (AddOn.name == name))
    by_service = _plan_ids_of(service)
    if by_service is not None:
        query = query.where(by_service)
    found = list(session.scalars(query.order_by(AddOn.name)).unique())
    if not found:
        raise NotFound(ADDON_RESOURCE, f"Couldn't find that add-on: {identity}.")
    return found


def resolve_attachments(
    session: Session, access: AppAccess, identity: str, *, app: str | None, service: str | None
) -> list[AddOn]:
    """The add-ons whose attachment an identifier names: on ``app`` (or ``app::NAME``) by
    attachment name or id; without an app, by attachment id. Never empty: 404 ``add_on
    attachment``."""
    app_name, name = _split(identity, app)
    query = visible_addons(access)
    if app_name:
        on_app = find_app(session, access, app_name)
        query = query.where(
            AddOn.app_id == on_app.id,
            (func.upper(AddOn.attachment_name) == name.upper()) | (AddOn.attachment_id == name),
        )
    else:
        query = query.where(AddOn.attachment_id == name)
    by_service = _plan_ids_of(service)
    if by_service is not None:
        query = query.where(by_service)
    found = list(session.scalars(query.order_by(AddOn.attachment_name)).unique())
    if not found:
        raise NotFound(ATTACHMENT_RESOURCE, f"Couldn't find that add-on attachment: {identity}.")
    return found
