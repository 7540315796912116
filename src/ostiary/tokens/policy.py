"""Changing an account's token policy, and what the change does to the tokens it already has.

``policies.services.update_policy`` stores the new policy. When it shortens the maximum
lifetime in force, every live token of the account that would outlive the new deadline (now
plus the maximum) gets that deadline written into its ``expires_at``. Stored on the row, the
deadline holds on every path that reads a token's expiry (the authenticator, the refresh grant,
introspection, a child authorization's limit), and a later loosening or another change of the
policy cannot lift or move it. The server's own maximum (``OSTIARY_TOKEN_MAX_LIFETIME``) is
applied the same way to every account's tokens by the lifecycle job (:func:`cap_tokens`), so a
token made before the server's setting was shortened ends at the new limit counted from the
first run after the change.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from ostiary.policies.queries import policy_in_force
from ostiary.policies.records import TokenPolicy
from ostiary.policies.services import update_policy
from ostiary.tokens.models import Authorization, AuthorizationKind
from ostiary.unit import Unit


def change_token_policy(unit: Unit, account_id: str, changes: dict[str, object]) -> TokenPolicy:
    """Set some of the account's policy settings (``update_policy``: 422 when weaker than the
    server's) and cap the tokens a shorter maximum lifetime now cuts short."""
    before = policy_in_force(unit.session, unit.lifetimes, account_id).settings.max_lifetime
    policy = update_policy(unit, account_id, changes)
    limit = policy.settings.max_lifetime
    if limit is not None and (before is None or limit < before):
        cap_lifetimes(unit, account_id, limit)
    return policy


def cap_lifetimes(unit: Unit, account_id: str, max_lifetime: int) -> int:
    """Give each live token of the account (not its API key, which has an age limit of its own)
    that would outlive now plus ``max_lifetime`` that deadline; how many."""
    return cap_tokens(unit.session, unit.now() + timedelta(seconds=max_lifetime), account_id)


def cap_tokens(session: Session, cap: datetime, account_id: str | None = None) -> int:
    """Give each live token but API keys (of one account, or of all) that would outlive ``cap``
    that deadline; how many. Idempotent: a token capped once, or made under the limit, is not
    touched again by a later cap."""
    conditions = [
        Authorization.kind != AuthorizationKind.API_KEY,
        Authorization.revoked_at.is_(None),
        or_(Authorization.expires_at.is_(None), Authorization.expires_at > cap),
    ]
    if account_id is not None:
        conditions.append(Authorization.account_id == account_id)
    result = session.execute(
        update(Authorization).where(*conditions).values(expires_at=cap),
        execution_options={"synchronize_session": False},
    )
    capped: int = result.rowcount  # type: ignore[attr-defined]
    return capped
