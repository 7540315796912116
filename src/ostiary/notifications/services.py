"""Notifying accounts of what was done with them, and changing what they are told.

:func:`notify` is a ``SealedEventsSubscriber`` (built by :func:`notifications_enqueuer`): the
activity log's sealer hands it each batch of sealed events in the sealing transaction, and the
mail it queues (``webhooks.outbox.queue_mail``) is written in that transaction too, so a mail
exists exactly when its event was sealed, once. No other code calls it. Each event notified is
remembered (``notifications_sent``): a batch told twice queues nothing the second time.

:func:`update_settings` takes the request's :class:`~ostiary.unit.Unit` and never commits.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, select
from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session

from ostiary.accounts.models import Account
from ostiary.activity.records import LoggedEvent, SealedEventsSubscriber
from ostiary.clock import utcnow
from ostiary.config import Settings
from ostiary.events import Event
from ostiary.notifications.errors import AlwaysSent, UnknownNotification
from ostiary.notifications.messages import notification_mail, server_url
from ostiary.notifications.models import (
    AccountNotificationSettings,
    SentNotification,
    SignInPlaceRow,
)
from ostiary.notifications.queries import settings_from, settings_row
from ostiary.notifications.records import (
    API_KEY_REGENERATED,
    KINDS,
    SETTING_NAMES,
    SIGN_IN,
    TOKEN_CREATED,
    Kind,
    KnownPlace,
    NotificationSettings,
    SignInPlace,
)
from ostiary.notifications.rules import (
    PASSWORD_ACTIONS,
    SAME_REQUEST_WINDOW,
    is_first_api_key,
    is_new_place,
    kind_of,
    place_of,
    places_to_forget,
    recipient_of,
)
from ostiary.tokens.models import Authorization
from ostiary.unit import Unit
from ostiary.webhooks.outbox import queue_mail

logger = logging.getLogger("ostiary.notifications")

# What a settings change may name that is not a setting: the security notifications.
_SECURITY_NAMES = frozenset(
    {kind.name.replace("-", "_") for kind in KINDS if kind.security}
    | {"password", "second_factor", "recovery_codes", "api_key", "security"}
)


@dataclass
class _Recipient:
    """An account of the batch: its email and creation, and its settings row (made when its
    first sign-in is seen)."""

    email: str
    created_at: datetime
    row: AccountNotificationSettings | None
    settings: NotificationSettings = field(default_factory=NotificationSettings)


def _recipients(session: Session, accounts: set[str]) -> dict[str, _Recipient]:
    rows = {
        row.account_id: row
        for row in session.scalars(
            select(AccountNotificationSettings).where(
                AccountNotificationSettings.account_id.in_(accounts)
            )
        )
    }
    found = session.execute(
        select(Account.id, Account.email, Account.created_at).where(Account.id.in_(accounts))
    ).all()
    return {
        account_id: _Recipient(
            email, created_at, rows.get(account_id), settings_from(rows.get(account_id))
        )
        for account_id, email, created_at in found
    }


def _is_new_sign_in(
    session: Session, account_id: str, recipient: _Recipient, event: LoggedEvent
) -> bool:
    """Remember where the sign-in came from (at the event's time, to the microsecond, so the
    least recently used place is well defined); whether that place is new to the account
    (never at its first sign-in). The least recently used places beyond the cap are
    forgotten."""
    at = event.created_at
    first = recipient.row is None or recipient.row.first_sign_in_at is None
    if recipient.row is None:
        recipient.row = AccountNotificationSettings(account_id=account_id, updated_at=at)
        session.add(recipient.row)
    if first:
        recipient.row.first_sign_in_at = at
    place = place_of(event.ip, event.user_agent)
    rows = session.scalars(
        select(SignInPlaceRow).where(SignInPlaceRow.account_id == account_id)
    ).all()
    existing = next(
        (row for row in rows if (row.device, row.network) == (place.device, place.network)),
        None,
    )
    if existing is not None:
        existing.last_seen_at = max(existing.last_seen_at, at)
        return False
    session.add(
        SignInPlaceRow(
            account_id=account_id,
            device=place.device,
            network=place.network,
            first_seen_at=at,
            last_seen_at=at,
        )
    )
    known = [KnownPlace(SignInPlace(row.device, row.network), row.last_seen_at) for row in rows]
    forgotten = set(places_to_forget([*known, KnownPlace(place, at)]))
    for row in rows:
        if SignInPlace(row.device, row.network) in forgotten:
            session.delete(row)
    return is_new_place(place, {entry.place for entry in known}, first=first)


def _told_with_password(session: Session, event: LoggedEvent, account_id: str) -> bool:
    """Whether an API key regeneration came with a password change or reset of the same
    request (its mail says the key was regenerated)."""
    query = select(Event.id).where(
        Event.action.in_(PASSWORD_ACTIONS),
        Event.created_at >= event.created_at - SAME_REQUEST_WINDOW,
        Event.created_at <= event.created_at + SAME_REQUEST_WINDOW,
        or_(Event.target_id == account_id, Event.subject_id == account_id),
        Event.actor_id.is_(None) if event.actor_id is None else Event.actor_id == event.actor_id,
        (
            Event.request_id.is_(None)
            if event.request_id is None
            else Event.request_id == event.request_id
        ),
    )
    return session.scalar(query.limit(1)) is not None


def _made_at_sign_in(session: Session, event: LoggedEvent) -> bool:
    """Whether a new authorization is a password login's (the API's ``heroku login -i``): its
    sign-in is the notification."""
    if event.target_id is None:
        return False
    made = session.get(Authorization, event.target_id)
    return made is not None and made.session_id is not None


def _wanted(
    session: Session,
    kind: Kind,
    event: LoggedEvent,
    account_id: str,
    recipient: _Recipient,
) -> bool:
    """Whether this notification goes: the rules of its kind, then the account's settings."""
    if kind is SIGN_IN:
        if not _is_new_sign_in(session, account_id, recipient, event):
            return False
    elif kind is API_KEY_REGENERATED:
        if is_first_api_key(event, recipient.created_at):
            return False
        if _told_with_password(session, event, account_id):
            return False
    elif kind is TOKEN_CREATED and _made_at_sign_in(session, event):
        return False
    return recipient.settings.allows(kind)


def notify(
    session: Session,
    events: Sequence[LoggedEvent],
    *,
    base_url: str,
    retry_window: timedelta,
    now: datetime | None = None,
) -> int:
    """A ``SealedEventsSubscriber``: queue one mail per event that is a notification its
    account receives, in the sealing transaction; how many."""
    candidates = [
        (event, kind, account_id)
        for event in events
        if (kind := kind_of(event)) is not None and (account_id := recipient_of(event))
    ]
    if not candidates:
        return 0
    now = now or utcnow()
    already = set(
        session.scalars(
            select(SentNotification.id).where(
                SentNotification.id.in_([event.id for event, _, _ in candidates])
            )
        )
    )
    recipients = _recipients(session, {account_id for _, _, account_id in candidates})
    queued = 0
    for event, kind, account_id in candidates:
        recipient = recipients.get(account_id)
        if event.id in already or recipient is None:
            continue
        if not _wanted(session, kind, event, account_id, recipient):
            continue
        mail = notification_mail(
            kind, event, account_id=account_id, to=recipient.email, base_url=base_url
        )
        queue_mail(session, mail, now=now, retry_for=retry_window)
        session.add(SentNotification(id=event.id, account_id=account_id, kind=kind.name))
        already.add(event.id)
        queued += 1
    session.flush()
    return queued


def notifications_enqueuer(
    settings: Settings, *, on_queued: Callable[[], None] | None = None
) -> SealedEventsSubscriber | None:
    """The subscriber that queues the notifications, or None when no SMTP server is
    configured (``ostiary check`` says mail is off; nothing is queued or remembered).
    ``on_queued`` is called when a batch queued mail (``app.sealing_jobs`` then wakes the
    sending once the sealing commits)."""
    if settings.smtp_url is None:
        return None
    base = server_url(settings)
    window = timedelta(seconds=settings.webhook_retry_seconds)

    def subscriber(session: Session, events: Sequence[LoggedEvent]) -> None:
        # In a savepoint of the sealing transaction: a notification that cannot be queued (a
        # bug, a row refused) costs its batch's mail, never the sealing of the activity log.
        # A lost database fails the sealing as it would anyway, to be retried.
        try:
            with session.begin_nested():
                queued = notify(session, events, base_url=base, retry_window=window)
        except (OperationalError, InterfaceError):
            raise
        except Exception as error:
            logger.error(
                "notifications of %d sealed events were not queued (%s); the events were sealed",
                len(events),
                type(error).__name__,
            )
            return
        if queued and on_queued is not None:
            on_queued()

    return subscriber


def parse_changes(changes: dict[str, object]) -> dict[str, bool]:
    """The settings a change names, checked: each an informational notification (a security
    one cannot be turned off), each true or false."""
    parsed: dict[str, bool] = {}
    for name, value in changes.items():
        if name in _SECURITY_NAMES:
            raise AlwaysSent(
                name,
                "Notifications about your password, second factors, recovery codes and API "
                "key are always sent.",
            )
        if name not in SETTING_NAMES:
            raise UnknownNotification(
                name, f"Unknown notification {name[:40]!r}; known: {', '.join(SETTING_NAMES)}."
            )
        if not isinstance(value, bool):
            raise UnknownNotification(name, f"{name} must be true or false.")
        parsed[name] = value
    return parsed


def update_settings(
    unit: Unit, account_id: str, changes: dict[str, object]
) -> NotificationSettings:
    """Turn the account's informational notifications on or off (422 for a security one or an
    unknown name); recorded as ``account:notifications:update``."""
    parsed = parse_changes(changes)
    row = settings_row(unit.session, account_id, for_update=True)
    if row is None:
        row = AccountNotificationSettings(account_id=account_id)
        unit.session.add(row)
    for name, value in parsed.items():
        setattr(row, name, value)
    row.updated_at = unit.now()
    unit.session.flush()
    unit.record(
        "account:notifications:update",
        actor_id=account_id,
        target_type="account",
        target_id=account_id,
        details={"changed": {name: parsed[name] for name in sorted(parsed)}},
    )
    return settings_from(row)
