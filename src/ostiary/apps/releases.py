"""Releases: each change to an app's config or add-ons is a new numbered release."""

from __future__ import annotations

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from ostiary.apps.catalog import PLANS_BY_ID
from ostiary.apps.models import AddOn, App, ConfigVar, Release
from ostiary.errors import NotFound
from ostiary.unit import Unit


def create_release(unit: Unit, app: App, description: str, user_id: str) -> Release:
    """Record a new release of an app, numbered one past the latest, with the app's config vars
    and add-ons as they are now (the caller has flushed its changes).

    The caller holds the app's row lock (``find_app(..., for_update=True)``), so two changes at
    once cannot take the same number.
    """
    session = unit.session
    latest = latest_version(session, app)
    rows = session.execute(select(ConfigVar.key, ConfigVar.value).where(ConfigVar.app_id == app.id))
    config: dict[str, str] = dict(rows.all())
    plan_names = session.scalars(select(AddOn.plan_id).where(AddOn.app_id == app.id)).all()
    release = Release(
        app=app,
        version=latest + 1,
        description=description,
        user_id=user_id,
        addon_plan_names=sorted(PLANS_BY_ID[plan_id].name for plan_id in plan_names),
        config_vars=dict(sorted(config.items())),
    )
    session.add(release)
    app.released_at = unit.now()
    session.flush()
    return release


def latest_version(session: Session, app: App) -> int:
    """The number of the app's current release."""
    return session.scalar(select(func.max(Release.version)).where(Release.app_id == app.id)) or 0


def find_release(session: Session, app: App, identity: str) -> Release:
    """A release of the app by version number or id."""
    column = Release.version if identity.isdigit() else Release.id
    value: int | str = int(identity) if identity.isdigit() else identity
    release = session.scalar(select(Release).where(Release.app_id == app.id, column == value))
    if release is None:
        raise NotFound("release")
    return release


def releases_of(app: App) -> Select[Release]:
    """The app's releases, as a query for pagination."""
    return select(Release).where(Release.app_id == app.id)
