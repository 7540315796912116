"""What the policy package hands others: a set of policy settings, and the policy in force with
where each of its settings comes from."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

Source = Literal["server", "account"]

SETTING_NAMES = (
    "max_lifetime",
    "allow_non_expiring",
    "non_expiring_scopes",
    "api_key_max_age",
    "idle_revoke_after",
)
"""The policy's settings, as the API names them."""

ENVIRONMENT_OF = {
    "max_lifetime": "OSTIARY_TOKEN_MAX_LIFETIME",
    "allow_non_expiring": "OSTIARY_TOKEN_ALLOW_NON_EXPIRING",
    "non_expiring_scopes": "OSTIARY_TOKEN_NON_EXPIRING_SCOPES",
    "api_key_max_age": "OSTIARY_API_KEY_MAX_AGE",
    "idle_revoke_after": "OSTIARY_TOKEN_IDLE_REVOKE_AFTER",
}
"""The server-wide setting behind each policy setting."""


@dataclass(frozen=True, slots=True)
class PolicySettings:
    """One set of policy settings. Durations are seconds; None is no limit (and, for
    ``non_expiring_scopes``, any scope)."""

    max_lifetime: int | None = None
    allow_non_expiring: bool = True
    non_expiring_scopes: tuple[str, ...] | None = None
    api_key_max_age: int | None = None
    idle_revoke_after: int | None = None


@dataclass(frozen=True, slots=True)
class AccountSettings:
    """An account's own settings: None where the account set nothing (the server's applies)."""

    max_lifetime: int | None = None
    allow_non_expiring: bool | None = None
    non_expiring_scopes: tuple[str, ...] | None = None
    api_key_max_age: int | None = None
    idle_revoke_after: int | None = None


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    """The policy in force for an account: the server's settings made stricter by the
    account's. ``sources`` says for each setting whether the server's or the account's value is
    in force; ``tightened_at`` is when the account's policy last became stricter (tokens made
    before it expire at the limit counted from then)."""

    settings: PolicySettings
    sources: dict[str, Source] = field(default_factory=dict)
    tightened_at: datetime | None = None

    def source(self, name: str) -> Source:
        """Where the setting ``name`` comes from."""
        return self.sources.get(name, "server")
