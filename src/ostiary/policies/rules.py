"""The policy's decisions, without storage: the stricter-of combination of the server's and an
account's settings, what a new token's lifetime is under a policy, whether a change loosens,
and when an older token stops working under a stricter policy (docs/token-lifecycle.md,
"Policies")."""

from __future__ import annotations

from datetime import datetime, timedelta

from ostiary.durations import describe_duration
from ostiary.policies.errors import LoosensPolicy, OutsidePolicy
from ostiary.policies.records import (
    ENVIRONMENT_OF,
    AccountSettings,
    PolicySettings,
    Source,
    TokenPolicy,
)
from ostiary.scopes import covers

# The longest duration an account's setting may hold: ten years, as ``expires_in`` (a longer one
# limits nothing, and would not fit the column on PostgreSQL).
MAX_SETTING = 10 * 365 * 86400


def _shorter(server: int | None, account: int | None) -> tuple[int | None, Source]:
    """The stricter of two limits (None: no limit), and whose it is."""
    if account is not None and (server is None or account < server):
        return account, "account"
    return server, "server"


def combine(
    server: PolicySettings, account: AccountSettings | None, tightened_at: datetime | None = None
) -> TokenPolicy:
    """The policy in force: each setting the stricter of the server's and the account's."""
    account = account or AccountSettings()
    sources: dict[str, Source] = {}
    max_lifetime, sources["max_lifetime"] = _shorter(server.max_lifetime, account.max_lifetime)
    api_key_max_age, sources["api_key_max_age"] = _shorter(
        server.api_key_max_age, account.api_key_max_age
    )
    idle, sources["idle_revoke_after"] = _shorter(
        server.idle_revoke_after, account.idle_revoke_after
    )
    allow = server.allow_non_expiring
    sources["allow_non_expiring"] = "server"
    if allow and account.allow_non_expiring is False:
        allow, sources["allow_non_expiring"] = False, "account"
    scopes = server.non_expiring_scopes
    sources["non_expiring_scopes"] = "server"
    if account.non_expiring_scopes is not None and (
        scopes is None or set(account.non_expiring_scopes) < set(scopes)
    ):
        scopes, sources["non_expiring_scopes"] = account.non_expiring_scopes, "account"
    return TokenPolicy(
        settings=PolicySettings(
            max_lifetime=max_lifetime,
            allow_non_expiring=allow,
            non_expiring_scopes=scopes,
            api_key_max_age=api_key_max_age,
            idle_revoke_after=idle,
        ),
        sources=sources,
        tightened_at=tightened_at,
    )


def _named(policy: TokenPolicy, name: str) -> str:
    """The policy a limit comes from, as a refusal names it."""
    if policy.source(name) == "account":
        return "this account's token policy, " + name
    return ENVIRONMENT_OF[name]


def lifetime_under(
    policy: TokenPolicy, scopes: list[str], expires_in: int | None, *, cap: bool = False
) -> int | None:
    """The lifetime (seconds; None: never expires) a new token asking for ``expires_in`` gets
    under the policy, or :class:`OutsidePolicy` naming the policy and its limit.

    Asked without expiry under a maximum lifetime, it gets the maximum. Exactly the maximum is
    accepted; one second more is refused, unless ``cap``: a login, whose lifetime the client
    program chose and not the person, gets the maximum instead.
    """
    settings = policy.settings
    limit = settings.max_lifetime
    if expires_in is None:
        if limit is not None:
            return min(limit, MAX_SETTING)  # a server setting of centuries still makes a date
        if not settings.allow_non_expiring:
            raise OutsidePolicy(
                "expires_in",
                "expires_in is required: this account does not allow tokens without expiry "
                f"({_named(policy, 'allow_non_expiring')}).",
            )
        allowed = settings.non_expiring_scopes
        if allowed is not None and not covers(frozenset(allowed), scopes):
            shown = ", ".join(allowed) or "none"
            raise OutsidePolicy(
                "expires_in",
                f"A token without expiry may carry only these scopes: {shown} "
                f"({_named(policy, 'non_expiring_scopes')}); give it an expires_in or "
                "narrower scopes.",
            )
        return None
    if limit is not None and expires_in > limit:
        if cap:
            return limit
        raise OutsidePolicy(
            "expires_in",
            "expires_in is over the longest lifetime this account allows, "
            f"{describe_duration(limit)} ({_named(policy, 'max_lifetime')}).",
        )
    return expires_in


def check_within_server(server: PolicySettings, account: AccountSettings) -> None:
    """An account may only make the server's settings stricter: :class:`LoosensPolicy` naming
    the first setting that would be weaker, and the server's limit."""

    def refuse(name: str, limit: str) -> None:
        raise LoosensPolicy(
            name,
            f"{name} cannot be weaker than the server's limit, {limit} "
            f"({ENVIRONMENT_OF[name]}): an account may only make its token policy stricter.",
        )

    durations = (
        ("max_lifetime", server.max_lifetime, account.max_lifetime),
        ("api_key_max_age", server.api_key_max_age, account.api_key_max_age),
        ("idle_revoke_after", server.idle_revoke_after, account.idle_revoke_after),
    )
    for name, limit, asked in durations:
        if asked is not None and limit is not None and asked > limit:
            refuse(name, describe_duration(limit))
        if asked is not None and not 1 <= asked <= MAX_SETTING:
            raise LoosensPolicy(name, f"{name} must be 1 second to 10 years, or null.")
    if account.allow_non_expiring is True and not server.allow_non_expiring:
        refuse("allow_non_expiring", "false")
    allowed, asked_scopes = server.non_expiring_scopes, account.non_expiring_scopes
    if allowed is not None and asked_scopes is not None and not set(asked_scopes) <= set(allowed):
        refuse("non_expiring_scopes", ", ".join(allowed) or "none")


def is_stricter(before: PolicySettings, after: PolicySettings) -> bool:
    """Whether ``after`` limits anything ``before`` did not (a shorter or new limit, no more
    non-expiring tokens, fewer non-expiring scopes)."""

    def shorter(old: int | None, new: int | None) -> bool:
        return new is not None and (old is None or new < old)

    return (
        shorter(before.max_lifetime, after.max_lifetime)
        or shorter(before.api_key_max_age, after.api_key_max_age)
        or shorter(before.idle_revoke_after, after.idle_revoke_after)
        or (before.allow_non_expiring and not after.allow_non_expiring)
        or (
            after.non_expiring_scopes is not None
            and (
                before.non_expiring_scopes is None
                or set(after.non_expiring_scopes) < set(before.non_expiring_scopes)
            )
        )
    )


def effective_expiry(
    expires_at: datetime | None,
    created_at: datetime,
    max_lifetime: int | None,
    tightened_at: datetime | None,
) -> datetime | None:
    """When a token stops working: its own expiry, or, made before the account's policy last
    tightened, the policy's maximum lifetime counted from the later of its creation and the
    change, whichever comes first."""
    if max_lifetime is None or tightened_at is None:
        return expires_at
    cap = max(created_at, tightened_at) + timedelta(seconds=max_lifetime)
    return cap if expires_at is None else min(expires_at, cap)


def is_out_of_policy(
    policy: TokenPolicy, scopes: list[str], expires_at: datetime | None, created_at: datetime
) -> bool:
    """Whether a token made earlier would be refused today: longer-lived than the maximum, or
    without expiry where the policy wants one."""
    settings = policy.settings
    if expires_at is None:
        try:
            lifetime_under(policy, scopes, None)
        except OutsidePolicy:
            return True
        return settings.max_lifetime is not None
    limit = settings.max_lifetime
    return limit is not None and (expires_at - created_at).total_seconds() > limit


def api_key_expiry(key_created_at: datetime, max_age: int | None) -> datetime | None:
    """When an API key made at ``key_created_at`` must have been regenerated (None: never)."""
    return None if max_age is None else key_created_at + timedelta(seconds=max_age)
