"""The rules of apps decided without storage: regions, stacks, who may act as owner."""

from __future__ import annotations

from ostiary.apps.catalog import DEFAULT_REGION, DEFAULT_STACK, REGIONS, STACKS
from ostiary.apps.errors import OwnerOnly
from ostiary.apps.models import App
from ostiary.errors import InvalidParams

NAME_ATTEMPTS = 20


def checked_region(name: str | None) -> str:
    """A known region's name (the default when none is given)."""
    region = name or DEFAULT_REGION
    if region not in REGIONS:
        raise InvalidParams("region", f"Unknown region {region!r}; choose one of: us, eu.")
    return region


def checked_stack(name: str | None) -> str:
    """A known stack's name (the default when none is given)."""
    stack = name or DEFAULT_STACK
    if stack not in STACKS:
        raise InvalidParams("stack", f"Unknown stack {stack!r}; choose one of: heroku-24.")
    return stack


def require_owner(app: App, account_id: str, action: str) -> None:
    """Refuse an owner-only action to a collaborator."""
    if app.owner_id != account_id:
        raise OwnerOnly(action)
