"""Reading the policy in force: the server's settings (from the unit's lifetimes) and the
account's own row, combined."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ostiary.policies.models import AccountTokenPolicy
from ostiary.policies.records import AccountSettings, PolicySettings, TokenPolicy
from ostiary.policies.rules import combine
from ostiary.unit import TokenLifetimes


def server_settings(lifetimes: TokenLifetimes) -> PolicySettings:
    """The server-wide policy, as configured (``unit.lifetimes_of``)."""
    return PolicySettings(
        max_lifetime=lifetimes.max_lifetime,
        allow_non_expiring=lifetimes.allow_non_expiring,
        non_expiring_scopes=lifetimes.non_expiring_scopes,
        api_key_max_age=lifetimes.api_key_max_age,
        idle_revoke_after=lifetimes.idle_revoke_after,
    )


def account_settings(row: AccountTokenPolicy | None) -> AccountSettings | None:
    """An account's own settings as a record (None: it set none)."""
    if row is None:
        return None
    scopes = row.non_expiring_scopes
    return AccountSettings(
        max_lifetime=row.max_lifetime,
        allow_non_expiring=row.allow_non_expiring,
        non_expiring_scopes=tuple(scopes) if scopes is not None else None,
        api_key_max_age=row.api_key_max_age,
        idle_revoke_after=row.idle_revoke_after,
    )


def find_account_policy(
    session: Session, account_id: str, *, for_update: bool = False
) -> AccountTokenPolicy | None:
    """The account's own policy row, if it has one."""
    if for_update:
        return session.get(AccountTokenPolicy, account_id, with_for_update=True)
    return session.get(AccountTokenPolicy, account_id)


def policy_in_force(session: Session, lifetimes: TokenLifetimes, account_id: str) -> TokenPolicy:
    """The policy in force for the account: the server's made stricter by the account's."""
    row = find_account_policy(session, account_id)
    return combine(
        server_settings(lifetimes), account_settings(row), row.tightened_at if row else None
    )
