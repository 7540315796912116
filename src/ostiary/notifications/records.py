"""What the notifications are: each kind, whether it is a security one (always sent) or an
informational one (the account may turn it off), and the page of the dashboard it points to.

The mapping from the activity log's event actions to these kinds is ``rules.kind_of``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

DASHBOARD = "/dashboard"
SESSIONS_PAGE = f"{DASHBOARD}/sessions"
TOKENS_PAGE = f"{DASHBOARD}/tokens"
API_KEY_PAGE = f"{DASHBOARD}/api-key"
ACCOUNT_PAGE = f"{DASHBOARD}/account"
AUTHORIZED_PAGE = f"{DASHBOARD}/authorized-applications"
# The two-factor page of issue 16's second factors (its helper names it; the merger checks).
TWO_FACTOR_PAGE = f"{DASHBOARD}/two-factor"
NOTIFICATIONS_PAGE = f"{DASHBOARD}/notifications"

# The informational notifications' settings, each on by default (the API's field names).
NEW_SIGN_IN = "new_sign_in"
NEW_TOKEN = "new_token"  # noqa: S105 - a setting's name, not a secret
SETTING_NAMES = (NEW_SIGN_IN, NEW_TOKEN)
SETTING_MEANINGS = {
    NEW_SIGN_IN: "A sign-in from a device or network not seen before",
    NEW_TOKEN: "A new token or OAuth authorization (an application you allowed)",
}


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of notification: its name, its mail's subject and opening line, the page it
    links to, and the setting that turns it off (None: a security one, always sent)."""

    name: str
    subject: str
    summary: str
    page: str
    setting: str | None = None

    @property
    def security(self) -> bool:
        """Whether it always goes (password, second factor, recovery codes, API key)."""
        return self.setting is None


SIGN_IN = Kind(
    "sign-in",
    "New sign-in to your Ostiary account",
    "Your account was signed in to from a device or network it had not used before.",
    SESSIONS_PAGE,
    NEW_SIGN_IN,
)
PASSWORD_CHANGED = Kind(
    "password-changed",
    "Your Ostiary password was changed",
    "The password of your account was changed. Your API key was regenerated and your other "
    "sessions were ended.",
    ACCOUNT_PAGE,
)
PASSWORD_RESET = Kind(
    "password-reset",
    "Your Ostiary password was reset",
    "The password of your account was reset. Your API key was regenerated and your sessions "
    "were ended.",
    ACCOUNT_PAGE,
)
SECOND_FACTOR_ADDED = Kind(
    "second-factor-added",
    "A second factor was added to your Ostiary account",
    "A second factor was added to your account.",
    TWO_FACTOR_PAGE,
)
SECOND_FACTOR_REMOVED = Kind(
    "second-factor-removed",
    "A second factor was removed from your Ostiary account",
    "A second factor was removed from your account.",
    TWO_FACTOR_PAGE,
)
RECOVERY_CODES_REGENERATED = Kind(
    "recovery-codes-regenerated",
    "New recovery codes for your Ostiary account",
    "New recovery codes were made for your account; the old ones no longer work.",
    TWO_FACTOR_PAGE,
)
RECOVERY_CODE_USED = Kind(
    "recovery-code-used",
    "A recovery code was used on your Ostiary account",
    "A recovery code was used to sign in to your account.",
    TWO_FACTOR_PAGE,
)
API_KEY_REGENERATED = Kind(
    "api-key-regenerated",
    "Your Ostiary API key was regenerated",
    "The API key of your account was regenerated: the old one, and every token made with it, "
    "no longer works.",
    API_KEY_PAGE,
)
TOKEN_CREATED = Kind(
    "token-created",
    "A new token for your Ostiary account",
    "A new token (authorization) was created for your account.",
    TOKENS_PAGE,
    NEW_TOKEN,
)
APPLICATION_AUTHORIZED = Kind(
    "application-authorized",
    "An application was authorized on your Ostiary account",
    "An application was given access to your account.",
    AUTHORIZED_PAGE,
    NEW_TOKEN,
)

KINDS = (
    SIGN_IN,
    PASSWORD_CHANGED,
    PASSWORD_RESET,
    SECOND_FACTOR_ADDED,
    SECOND_FACTOR_REMOVED,
    RECOVERY_CODES_REGENERATED,
    RECOVERY_CODE_USED,
    API_KEY_REGENERATED,
    TOKEN_CREATED,
    APPLICATION_AUTHORIZED,
)


@dataclass(frozen=True, slots=True)
class NotificationSettings:
    """An account's informational notifications, on or off (the security ones always go)."""

    new_sign_in: bool = True
    new_token: bool = True

    def allows(self, kind: Kind) -> bool:
        """Whether a notification of this kind is sent to the account."""
        return kind.setting is None or bool(getattr(self, kind.setting))

    def as_dict(self) -> dict[str, bool]:
        """Each informational setting by its name."""
        return {name: bool(getattr(self, name)) for name in SETTING_NAMES}


@dataclass(frozen=True, slots=True)
class SignInPlace:
    """Where a sign-in came from, as the new-device rule compares it: the device (the
    user agent's family and system, "Firefox on Linux") and the network (the /24 or /48)."""

    device: str
    network: str


@dataclass(frozen=True, slots=True)
class KnownPlace:
    """A device and network an account signed in from, and when it last did."""

    place: SignInPlace
    last_seen_at: datetime
