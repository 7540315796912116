"""Reads of the notifications' tables."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ostiary.notifications.models import AccountNotificationSettings, SignInPlaceRow
from ostiary.notifications.records import KnownPlace, NotificationSettings, SignInPlace


def settings_row(
    session: Session, account_id: str, *, for_update: bool = False
) -> AccountNotificationSettings | None:
    """The account's settings row, if it has one."""
    query = select(AccountNotificationSettings).where(
        AccountNotificationSettings.account_id == account_id
    )
    return session.scalar(query.with_for_update() if for_update else query)


def settings_from(row: AccountNotificationSettings | None) -> NotificationSettings:
    """The settings a row holds (the defaults, both on, for none)."""
    if row is None:
        return NotificationSettings()
    return NotificationSettings(new_sign_in=row.new_sign_in, new_token=row.new_token)


def settings_of(session: Session, account_id: str) -> NotificationSettings:
    """The account's informational notifications, on or off."""
    return settings_from(settings_row(session, account_id))


def known_places(session: Session, account_id: str) -> list[KnownPlace]:
    """The devices and networks the account signed in from, most recently used first."""
    rows = session.scalars(
        select(SignInPlaceRow)
        .where(SignInPlaceRow.account_id == account_id)
        .order_by(SignInPlaceRow.last_seen_at.desc())
    )
    return [KnownPlace(SignInPlace(row.device, row.network), row.last_seen_at) for row in rows]
