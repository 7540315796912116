"""The account's token policy (an extension of the Platform API, not in Heroku's schema):
``GET /account/token-policy`` shows the policy in force, each setting with its source
(``server`` or ``account``), and ``PATCH /account/token-policy`` makes it stricter
(docs/token-lifecycle.md, "Policies"). Durations are seconds, and accepted as ``"90d"`` too."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel, Field, StrictInt, StrictStr

from ostiary.clock import isoformat
from ostiary.durations import parse_duration
from ostiary.errors import InvalidParams
from ostiary.policies.queries import policy_in_force
from ostiary.policies.records import SETTING_NAMES, TokenPolicy
from ostiary.scopes import parse_scopes
from ostiary.tokens.policy import change_token_policy
from ostiary.web.api.deps import CallerDep, UnitDep
from ostiary.web.api.shapes import Body, Timestamp

router = APIRouter(tags=["token-policy"])

DURATIONS = ("max_lifetime", "api_key_max_age", "idle_revoke_after")


class SettingOut(BaseModel):
    """One setting in force: its value (seconds for a duration; null: no limit) and whose."""

    value: Any
    source: str = Field(description="server or account")


class TokenPolicyOut(BaseModel):
    """The token policy in force for the account."""

    max_lifetime: SettingOut
    allow_non_expiring: SettingOut
    non_expiring_scopes: SettingOut
    api_key_max_age: SettingOut
    idle_revoke_after: SettingOut
    tightened_at: Timestamp | None = Field(
        description="when the account's policy last became stricter"
    )


class TokenPolicyUpdate(Body):
    """Settings to make stricter; null clears the account's own back to the server's."""

    max_lifetime: StrictInt | StrictStr | None = None
    allow_non_expiring: bool | None = None
    non_expiring_scopes: list[str] | None = Field(default=None, max_length=20)
    api_key_max_age: StrictInt | StrictStr | None = None
    idle_revoke_after: StrictInt | StrictStr | None = None


def present_policy(policy: TokenPolicy) -> TokenPolicyOut:
    """The policy as the API shows it."""
    settings = policy.settings
    scopes = (
        list(settings.non_expiring_scopes) if settings.non_expiring_scopes is not None else None
    )

    def setting(name: str, value: object) -> SettingOut:
        return SettingOut(value=value, source=policy.source(name))

    return TokenPolicyOut(
        max_lifetime=setting("max_lifetime", settings.max_lifetime),
        allow_non_expiring=setting("allow_non_expiring", settings.allow_non_expiring),
        non_expiring_scopes=setting(
            "non_expiring_scopes", list(scopes) if scopes is not None else None
        ),
        api_key_max_age=setting("api_key_max_age", settings.api_key_max_age),
        idle_revoke_after=setting("idle_revoke_after", settings.idle_revoke_after),
        tightened_at=isoformat(policy.tightened_at),
    )


def parse_changes(body: TokenPolicyUpdate) -> dict[str, object]:
    """The settings the body gives, parsed: durations to seconds, scopes checked."""
    changes: dict[str, object] = {}
    for name in SETTING_NAMES:
        if name not in body.model_fields_set:
            continue
        value = getattr(body, name)
        if value is not None and name in DURATIONS:
            try:
                value = parse_duration(value)
            except ValueError as error:
                raise InvalidParams(name, f"{name}: {error}.") from None
            if value <= 0:
                raise InvalidParams(name, f"{name} must be more than 0 seconds, or null.")
        elif value is not None and name == "non_expiring_scopes":
            value = tuple(parse_scopes(value, name)) if value else ()
        changes[name] = value
    return changes


@router.get("/account/token-policy", response_model=TokenPolicyOut, summary="Token policy info")
async def get_token_policy(caller: CallerDep, unit: UnitDep) -> TokenPolicyOut:
    """The token policy in force for the account: the server's, made stricter by its own."""
    return present_policy(policy_in_force(unit.session, unit.lifetimes, caller.account_id))


@router.patch("/account/token-policy", response_model=TokenPolicyOut, summary="Token policy update")
async def patch_token_policy(
    body: TokenPolicyUpdate, caller: CallerDep, unit: UnitDep
) -> TokenPolicyOut:
    """Make the account's token policy stricter; a setting weaker than the server's is 422."""
    # The policy governs every token of the account: not for a token in a rotation's grace.
    caller.authorization(unit.session)
    return present_policy(change_token_policy(unit, caller.account_id, parse_changes(body)))
