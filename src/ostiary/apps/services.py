"""Creating, changing and deleting apps, and adding and removing collaborators. Services take the
request's :class:`~ostiary.unit.Unit` and never commit.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ostiary.accounts.models import Account
from ostiary.accounts.queries import find_by_id_or_email
from ostiary.apps.errors import AppNameTaken
from ostiary.apps.models import App, Collaborator
from ostiary.apps.names import is_valid_app_name
from ostiary.apps.queries import collaborators_of, name_taken, unused_generated_name
from ostiary.apps.releases import create_release
from ostiary.apps.rules import checked_region, checked_stack, require_owner
from ostiary.errors import Conflict, InvalidParams, NotFound
from ostiary.unit import Unit


def _check_name(session: Session, name: str) -> str:
    if not is_valid_app_name(name):
        raise InvalidParams(
            "name",
            "Name must start with a letter, end with a letter or digit and can only contain "
            "lowercase letters, digits, and dashes (3 to 30 characters).",
        )
    if name_taken(session, name):
        raise AppNameTaken(name)
    return name


def create_app(
    unit: Unit,
    *,
    owner_id: str,
    authorization_id: str,
    name: str | None,
    region: str | None,
    stack: str | None,
) -> App:
    """Create an app (a generated name when none is given) and its first release."""
    session = unit.session
    app = App(
        name=_check_name(session, name) if name else unused_generated_name(session),
        owner_id=owner_id,
        region=checked_region(region),
        stack=checked_stack(stack),
        created_by_authorization_id=authorization_id,
    )
    session.add(app)
    session.flush()
    create_release(unit, app, "Initial release", owner_id)
    unit.record("app:create", actor_id=owner_id, target_type="app", target_id=app.id)
    return app


def update_app(
    unit: Unit,
    app: App,
    *,
    actor_id: str,
    name: str | None = None,
    maintenance: bool | None = None,
    build_stack: str | None = None,
) -> App:
    """Rename an app, toggle maintenance mode or change its stack."""
    if name is not None and name != app.name:
        require_owner(app, actor_id, "rename it")
        app.name = _check_name(unit.session, name)
    if maintenance is not None:
        app.maintenance = maintenance
    if build_stack is not None:
        app.stack = checked_stack(build_stack)
    unit.record("app:update", actor_id=actor_id, target_type="app", target_id=app.id)
    return app


def delete_app(unit: Unit, app: App, *, actor_id: str) -> None:
    """Delete an app and everything that hangs off it."""
    require_owner(app, actor_id, "delete it")
    unit.session.delete(app)
    unit.record(
        "app:destroy",
        actor_id=actor_id,
        target_type="app",
        target_id=app.id,
        details={"name": app.name},
    )


def add_collaborator(unit: Unit, app: App, user: str, *, actor_id: str) -> Collaborator:
    """Share an app with another account, named by email or id."""
    require_owner(app, actor_id, "manage its collaborators")
    session = unit.session
    account: Account | None = find_by_id_or_email(session, user)
    if account is None:
        raise NotFound("user", f"Couldn't find a user with the email or id {user!r}.")
    if account.id == app.owner_id:
        raise InvalidParams("user", f"{account.email} owns {app.name} already.")
    existing = session.scalar(collaborators_of(app).where(Collaborator.account_id == account.id))
    if existing is not None:
        raise Conflict(f"{account.email} is already a collaborator on {app.name}.")
    collaborator = Collaborator(app=app, account=account)
    session.add(collaborator)
    session.flush()
    unit.record(
        "app:collaborator:create",
        actor_id=actor_id,
        target_type="app",
        target_id=app.id,
        details={"account_id": account.id},
    )
    return collaborator


def remove_collaborator(unit: Unit, app: App, collaborator: Collaborator, *, actor_id: str) -> None:
    """Stop sharing an app with a collaborator."""
    require_owner(app, actor_id, "manage its collaborators")
    unit.session.delete(collaborator)
    unit.record(
        "app:collaborator:destroy",
        actor_id=actor_id,
        target_type="app",
        target_id=app.id,
        details={"account_id": collaborator.account_id},
    )
