"""Every model, imported in one place so the metadata is complete (Alembic, tests)."""

from ostiary.accounts.models import Account, LoginSession
from ostiary.apps.models import AddOn, App, Collaborator, ConfigVar, Release
from ostiary.events import Event
from ostiary.oauth_clients.models import OAuthClient
from ostiary.tokens.models import (
    AccessToken,
    Authorization,
    AuthorizationGrant,
    DeviceAuthorization,
    RefreshToken,
)
from ostiary.webhooks.models import Webhook, WebhookDelivery
from ostiary.webhooks.outbox import OutboxMail

__all__ = [
    "AccessToken",
    "Account",
    "AddOn",
    "App",
    "Authorization",
    "AuthorizationGrant",
    "Collaborator",
    "ConfigVar",
    "DeviceAuthorization",
    "Event",
    "LoginSession",
    "OAuthClient",
    "OutboxMail",
    "RefreshToken",
    "Release",
    "Webhook",
    "WebhookDelivery",
]
