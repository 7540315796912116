"""The account's notification settings (an extension of the Platform API, not in Heroku's
schema): ``GET /account/notification-settings`` shows which informational notifications are on
and which security ones always go; ``PATCH`` turns the informational ones on or off
(docs/notifications.md). A security one named, an unknown name or a value not boolean is 422
``invalid_params``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from ostiary.notifications.queries import settings_of
from ostiary.notifications.records import KINDS, NotificationSettings
from ostiary.notifications.services import update_settings
from ostiary.web.api.deps import CallerDep, ServicesDep, UnitDep

router = APIRouter(tags=["notification-settings"])
PATH = "/account/notification-settings"


class NotificationSettingsOut(BaseModel):
    """The informational notifications, on or off, and the security ones that always go."""

    new_sign_in: bool = Field(description="mail a sign-in from a device or network not seen")
    new_token: bool = Field(description="mail a new token or OAuth authorization")
    always_sent: list[str] = Field(description="the security notifications, never off")
    mail_enabled: bool = Field(description="whether this server sends mail at all (SMTP)")


def present_settings(settings: NotificationSettings, *, mail: bool) -> NotificationSettingsOut:
    """The settings as the API shows them."""
    return NotificationSettingsOut(
        **settings.as_dict(),
        always_sent=[kind.name for kind in KINDS if kind.security],
        mail_enabled=mail,
    )


@router.get(PATH, response_model=NotificationSettingsOut, summary="Notification settings info")
async def get_notification_settings(
    caller: CallerDep, unit: UnitDep, services: ServicesDep
) -> NotificationSettingsOut:
    """Which notifications the account is mailed."""
    return present_settings(
        settings_of(unit.session, caller.account_id),
        mail=services.settings.smtp_url is not None,
    )


@router.patch(PATH, response_model=NotificationSettingsOut, summary="Notification settings update")
async def patch_notification_settings(
    body: dict[str, Any], caller: CallerDep, unit: UnitDep, services: ServicesDep
) -> NotificationSettingsOut:
    """Turn informational notifications on or off: ``{"new_sign_in": false}``."""
    changed = update_settings(unit, caller.account_id, body)
    return present_settings(changed, mail=services.settings.smtp_url is not None)
