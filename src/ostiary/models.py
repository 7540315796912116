"""Every model, imported in one place so the metadata is complete (Alembic, tests)."""

from ostiary.accounts.models import Account, EmailLink, LoginSession
from ostiary.alerts.models import Alert, AlertPolicy
from ostiary.apps.models import AddOn, App, Collaborator, ConfigVar, Release
from ostiary.events import Event, EventChain
from ostiary.notifications.models import (
    AccountNotificationSettings,
    SentNotification,
    SignInPlaceRow,
)
from ostiary.oauth_clients.models import OAuthClient
from ostiary.passkeys.models import Passkey, PasskeyChallenge
from ostiary.policies.models import AccountTokenPolicy
from ostiary.second_factors.models import RecoveryCode, TotpFactor
from ostiary.tokens.models import (
    AccessToken,
    Authorization,
    AuthorizationGrant,
    DeviceAuthorization,
    RefreshToken,
)
from ostiary.usage.models import UsageHour, UsageRefusal, UsageSource
from ostiary.webhooks.models import Webhook, WebhookDelivery
from ostiary.webhooks.outbox import OutboxMail

__all__ = [
    "AccessToken",
    "Account",
    "AccountNotificationSettings",
    "AccountTokenPolicy",
    "AddOn",
    "Alert",
    "AlertPolicy",
    "App",
    "Authorization",
    "AuthorizationGrant",
    "Collaborator",
    "ConfigVar",
    "DeviceAuthorization",
    "EmailLink",
    "Event",
    "EventChain",
    "LoginSession",
    "OAuthClient",
    "OutboxMail",
    "Passkey",
    "PasskeyChallenge",
    "RecoveryCode",
    "RefreshToken",
    "Release",
    "SentNotification",
    "SignInPlaceRow",
    "TotpFactor",
    "UsageHour",
    "UsageRefusal",
    "UsageSource",
    "Webhook",
    "WebhookDelivery",
]
