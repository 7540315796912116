"""Who has access to an app, as Heroku's collaborator list shows it: the owner (role ``owner``)
and every collaborator (role ``collaborator``).

The owner has no ``Collaborator`` row: ownership is ``App.owner_id``. Its entry in the list is
made up from the app, with an id derived from the app's (stable, and never another entry's).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ostiary.accounts.models import Account
from ostiary.apps.models import App, Collaborator
from ostiary.apps.queries import find_collaborator
from ostiary.errors import Forbidden

OWNER = "owner"
COLLABORATOR = "collaborator"
_OWNER_ENTRY = uuid.UUID("3f1d2c55-6a0b-4f53-9a43-0c8e1b7d9e21")


@dataclass(frozen=True, slots=True)
class Member:
    """One entry of an app's collaborator list."""

    id: str
    app: App
    account: Account
    role: str
    created_at: datetime
    updated_at: datetime
    collaborator: Collaborator | None  # None for the owner


def owner_entry(app: App) -> Member:
    """The owner's entry in the app's collaborator list."""
    return Member(
        id=str(uuid.uuid5(_OWNER_ENTRY, app.id)),
        app=app,
        account=app.owner,
        role=OWNER,
        created_at=app.created_at,
        updated_at=app.created_at,
        collaborator=None,
    )


def collaborator_entry(collaborator: Collaborator) -> Member:
    """A collaborator's entry in the app's collaborator list."""
    return Member(
        id=collaborator.id,
        app=collaborator.app,
        account=collaborator.account,
        role=COLLABORATOR,
        created_at=collaborator.created_at,
        updated_at=collaborator.updated_at,
        collaborator=collaborator,
    )


def find_member(session: Session, app: App, identity: str) -> Member:
    """An entry by its id, or by the account's email or id: the owner's or a collaborator's."""
    owner = owner_entry(app)
    if identity in (owner.id, app.owner_id) or identity.casefold() == app.owner.email.casefold():
        return owner
    return collaborator_entry(find_collaborator(session, app, identity))


def removable(member: Member) -> Collaborator:
    """The collaborator row behind an entry; the owner cannot be removed from their own app."""
    if member.collaborator is None:
        raise Forbidden(f"{member.account.email} owns {member.app.name} and cannot be removed.")
    return member.collaborator
