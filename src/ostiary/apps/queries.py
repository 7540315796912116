"""Finding apps and collaborators, as the caller may see them."""

from __future__ import annotations

import uuid

from sqlalchemy import Select, exists, or_, select
from sqlalchemy.orm import Session

from ostiary.accounts.queries import find_by_id_or_email
from ostiary.apps.errors import AppNotFound
from ostiary.apps.models import App, Collaborator
from ostiary.apps.names import generate_name
from ostiary.apps.records import AppAccess
from ostiary.apps.rules import NAME_ATTEMPTS
from ostiary.errors import Conflict, NotFound


def unused_generated_name(session: Session) -> str:
    """A generated app name no app has yet."""
    for _ in range(NAME_ATTEMPTS):
        name = generate_name()
        if not name_taken(session, name):
            return name
    raise Conflict("Could not find a free app name; please choose one.")


def collaborators_of(app: App) -> Select[Collaborator]:
    """The app's collaborators, as a query for pagination."""
    return select(Collaborator).where(Collaborator.app_id == app.id)


def find_collaborator(session: Session, app: App, identity: str) -> Collaborator:
    """A collaborator of the app by its id, or by the collaborating account's email or id."""
    account = find_by_id_or_email(session, identity)
    query = collaborators_of(app)
    if account is not None:
        query = query.where(Collaborator.account_id == account.id)
    else:
        query = query.where(Collaborator.id == identity)
    collaborator = session.scalar(query)
    if collaborator is None:
        raise NotFound("collaborator")
    return collaborator


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def visible_apps(access: AppAccess) -> Select[App]:
    """Apps the caller owns or collaborates on (within its create-apps limit, if any)."""
    collaborates = exists().where(
        Collaborator.app_id == App.id, Collaborator.account_id == access.account_id
    )
    query = select(App).where(or_(App.owner_id == access.account_id, collaborates))
    if access.only_created_by is not None:
        query = query.where(App.created_by_authorization_id == access.only_created_by)
    return query


def find_app(
    session: Session, access: AppAccess, identity: str, *, for_update: bool = False
) -> App:
    """An app by id or name; NotFound when it does not exist *or* the caller may not see it."""
    column = App.id if _is_uuid(identity) else App.name
    query = visible_apps(access).where(column == identity.lower())
    if for_update:
        query = query.with_for_update(of=App)
    app = session.scalar(query)
    if app is None:
        raise AppNotFound()
    return app


def name_taken(session: Session, name: str) -> bool:
    """Whether any app, visible or not, has this name."""
    return session.scalar(select(App.id).where(App.name == name)) is not None
