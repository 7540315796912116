"""The notifications' decisions, without storage: which event is which notification and for
whom, where a sign-in came from, whether that place is new, and which known places to forget.

- **Which**: :func:`kind_of` maps the activity log's actions (docs/notifications.md has the
  table) to a :class:`~ostiary.notifications.records.Kind`; a refused action notifies nothing.
- **For whom**: the account the event was done to (an administrator's action notifies the
  account, not the administrator), else the account that acted (:func:`recipient_of`).
- **A new place**: a sign-in's device (the user agent's family and system, as ``agents`` reads
  it) and network (the /24 or /48, as the alerts' new-network rule groups addresses) together;
  a pair the account has not signed in from before is new, except at the account's first
  sign-in (:func:`is_new_place`).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime, timedelta

from ostiary.activity.records import LoggedEvent
from ostiary.agents import UNKNOWN, agent_of
from ostiary.events import SUCCESS
from ostiary.notifications.records import (
    API_KEY_REGENERATED,
    APPLICATION_AUTHORIZED,
    PASSWORD_CHANGED,
    PASSWORD_RESET,
    RECOVERY_CODE_USED,
    RECOVERY_CODES_REGENERATED,
    SECOND_FACTOR_ADDED,
    SECOND_FACTOR_REMOVED,
    SIGN_IN,
    TOKEN_CREATED,
    Kind,
    KnownPlace,
    SignInPlace,
)
from ostiary.security.tokens import TokenKind
from ostiary.usage.rules import network_of

# Sign-ins: a browser or API password login opens a session (after its second factor, when
# the account has one); a passkey alone signs in too. Both may come from one request: the
# second finds the place known.
SIGN_IN_ACTIONS = frozenset({"session:create", "auth:passkey:success"})
PASSWORD_ACTIONS = frozenset({"account:password:change", "account:password:reset"})
KIND_BY_ACTION: dict[str, Kind] = {
    **dict.fromkeys(SIGN_IN_ACTIONS, SIGN_IN),
    "account:password:change": PASSWORD_CHANGED,
    "account:password:reset": PASSWORD_RESET,
    "account:second-factor:add": SECOND_FACTOR_ADDED,
    "account:second-factor:remove": SECOND_FACTOR_REMOVED,
    "account:recovery-codes:regenerate": RECOVERY_CODES_REGENERATED,
    "account:recovery-codes:use": RECOVERY_CODE_USED,
    "token:api-key:regenerate": API_KEY_REGENERATED,
    # Recorded when an account gets its first key (not notified: services._first_api_key),
    # and by any later path that gives it a new one.
    "token:api-key:create": API_KEY_REGENERATED,
    "token:authorization:create": TOKEN_CREATED,
    "oauth:consent:grant": APPLICATION_AUTHORIZED,
    # A device (RFC 8628) approved for a third-party application: its tokens follow at its
    # next poll (``oauth:token:issue``, not mailed). The heroku CLI's browser login is approved
    # as ``oauth:heroku_cli:approve`` and makes its token with ``token:authorization:create``.
    "oauth:device:approve": APPLICATION_AUTHORIZED,
}

# Places an account keeps: enough for a person's browsers, CLIs and networks; the least
# recently used goes first, and one unused for a year is forgotten (its next sign-in notifies).
MAX_PLACES = 20
PLACE_RETENTION = timedelta(days=365)
# How long an event notified is remembered: the sealer sees an event within minutes.
SENT_RETENTION = timedelta(days=30)
# An account's first API key is made with it, in the same request.
FIRST_KEY_WINDOW = timedelta(minutes=1)
# A password change's or reset's own API key regeneration is told in the password's mail.
SAME_REQUEST_WINDOW = timedelta(seconds=10)
UNKNOWN_NETWORK = "unknown"
DEVICE_MAX = 80


def kind_of(event: LoggedEvent) -> Kind | None:
    """The notification an event is, or None (most events, and any refused one)."""
    if event.outcome != SUCCESS:
        return None
    return KIND_BY_ACTION.get(event.action)


def recipient_of(event: LoggedEvent) -> str | None:
    """The account told: the one the event was done to (``subject_id``, or an account target),
    else the one that acted; None when neither is known."""
    if event.subject_id is not None:
        return event.subject_id
    if event.target_type == "account" and event.target_id is not None:
        return event.target_id
    return event.actor_id


def by_someone_else(event: LoggedEvent, account_id: str) -> bool:
    """Whether the event was done to the account by someone else (an administrator)."""
    return event.details.get("by") == "administrator" or event.actor_id != account_id


def device_of(user_agent: str | None) -> str:
    """The device a User-Agent names ("Firefox on Linux", "heroku on Linux"), as stored and
    mailed. An agent that is not recognised is named by its first product token, which the
    sender chooses: one that holds an Ostiary token's prefix is "unknown", so no mail can carry
    (most of) a token sent as a User-Agent."""
    device = agent_of(user_agent).describe()[:DEVICE_MAX]
    if any(kind.value in device.lower() for kind in TokenKind):
        return UNKNOWN
    return device


def place_of(ip: str | None, user_agent: str | None) -> SignInPlace:
    """Where a sign-in came from: its device (:func:`device_of`) and network."""
    network = network_of(ip) if ip else None
    return SignInPlace(device_of(user_agent), str(network) if network else UNKNOWN_NETWORK)


def is_new_place(place: SignInPlace, known: Collection[SignInPlace], *, first: bool) -> bool:
    """Whether a sign-in from ``place`` is notified: a pair not among the ``known`` ones, unless
    this is the account's ``first`` sign-in (nothing to compare it with)."""
    return not first and place not in known


def places_to_forget(known: Sequence[KnownPlace], *, keep: int = MAX_PLACES) -> list[SignInPlace]:
    """The least recently used places beyond ``keep``."""
    ordered = sorted(known, key=lambda entry: entry.last_seen_at, reverse=True)
    return [entry.place for entry in ordered[keep:]]


def is_first_api_key(event: LoggedEvent, account_created_at: datetime) -> bool:
    """Whether a ``token:api-key:create`` is the key made with the account (not notified)."""
    return (
        event.action == "token:api-key:create"
        and abs(event.created_at - account_created_at) <= FIRST_KEY_WINDOW
    )
