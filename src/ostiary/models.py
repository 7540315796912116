"""Every model, imported in one place so the metadata is complete (Alembic, tests)."""

from ostiary.accounts.models import Account
from ostiary.apps.models import AddOn, App, Collaborator, ConfigVar, Release
from ostiary.events import Event
from ostiary.tokens.models import AccessToken, Authorization

__all__ = [
    "AccessToken",
    "Account",
    "AddOn",
    "App",
    "Authorization",
    "Collaborator",
    "ConfigVar",
    "Event",
    "Release",
]
