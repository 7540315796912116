"""Applying and changing the token policy. Services take the request's
:class:`~ostiary.unit.Unit` and never commit."""

from __future__ import annotations

from dataclasses import replace

from ostiary.policies.models import AccountTokenPolicy
from ostiary.policies.queries import (
    account_settings,
    find_account_policy,
    policy_in_force,
    server_settings,
)
from ostiary.policies.records import SETTING_NAMES, AccountSettings, TokenPolicy
from ostiary.policies.rules import check_within_server, combine, is_stricter, lifetime_under
from ostiary.unit import Unit


def lifetime_for(
    unit: Unit, account_id: str, scopes: list[str], expires_in: int | None, *, cap: bool = False
) -> int | None:
    """The lifetime a new token of the account gets under the policy in force (the hook of
    every path that makes a token: ``tokens.services``); 422 when outside it, or the maximum
    when ``cap`` (a login: ``rules.lifetime_under``)."""
    policy = policy_in_force(unit.session, unit.lifetimes, account_id)
    return lifetime_under(policy, scopes, expires_in, cap=cap)


def update_policy(unit: Unit, account_id: str, changes: dict[str, object]) -> TokenPolicy:
    """Set some of the account's own settings (a None value clears one back to the server's);
    refused with 422 when a setting would be weaker than the server's. When the policy in force
    becomes stricter, ``tightened_at`` is now: tokens made before then expire at its limit
    counted from now."""
    server = server_settings(unit.lifetimes)
    row = find_account_policy(unit.session, account_id, for_update=True)
    before = combine(server, account_settings(row))
    current = account_settings(row) or AccountSettings()
    wanted = replace(current, **{name: changes[name] for name in SETTING_NAMES if name in changes})  # type: ignore[arg-type]
    check_within_server(server, wanted)
    after = combine(server, wanted)
    if row is None:
        row = AccountTokenPolicy(account_id=account_id)
        unit.session.add(row)
    row.max_lifetime = wanted.max_lifetime
    row.allow_non_expiring = wanted.allow_non_expiring
    row.non_expiring_scopes = (
        list(wanted.non_expiring_scopes) if wanted.non_expiring_scopes is not None else None
    )
    row.api_key_max_age = wanted.api_key_max_age
    row.idle_revoke_after = wanted.idle_revoke_after
    if is_stricter(before.settings, after.settings):
        row.tightened_at = unit.now()
    unit.session.flush()
    unit.record(
        "token:policy:update",
        actor_id=account_id,
        target_type="account",
        target_id=account_id,
        details={"changed": sorted(name for name in SETTING_NAMES if name in changes)},
    )
    return policy_in_force(unit.session, unit.lifetimes, account_id)
