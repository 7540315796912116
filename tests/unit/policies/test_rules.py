"""The policy's rules at their edges: the stricter-of combination, a new token's lifetime
(exactly the limit accepted, one second over refused), a change that loosens, and when an older
token stops working under a stricter policy."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ostiary.errors import InvalidParams
from ostiary.policies.records import AccountSettings, PolicySettings
from ostiary.policies.rules import (
    api_key_expiry,
    check_within_server,
    combine,
    effective_expiry,
    is_out_of_policy,
    is_stricter,
    lifetime_under,
)

DAY = 86400
AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def test_the_stricter_setting_is_in_force_and_names_its_source() -> None:
    server = PolicySettings(max_lifetime=90 * DAY, idle_revoke_after=365 * DAY)
    policy = combine(server, AccountSettings(max_lifetime=30 * DAY, idle_revoke_after=400 * DAY))
    assert policy.settings.max_lifetime == 30 * DAY
    assert policy.source("max_lifetime") == "account"
    assert policy.settings.idle_revoke_after == 365 * DAY
    assert policy.source("idle_revoke_after") == "server"


def test_an_account_limit_applies_where_the_server_has_none() -> None:
    policy = combine(
        PolicySettings(),
        AccountSettings(api_key_max_age=DAY, allow_non_expiring=False, non_expiring_scopes=()),
    )
    assert policy.settings.api_key_max_age == DAY
    assert policy.settings.allow_non_expiring is False
    assert policy.source("allow_non_expiring") == "account"
    assert policy.settings.non_expiring_scopes == ()


def test_no_account_policy_is_the_servers() -> None:
    server = PolicySettings(max_lifetime=DAY, non_expiring_scopes=("read",))
    policy = combine(server, None)
    assert policy.settings == server
    assert {policy.source(name) for name in ("max_lifetime", "non_expiring_scopes")} == {"server"}


def test_exactly_the_maximum_lifetime_is_accepted_and_one_second_more_refused() -> None:
    policy = combine(PolicySettings(max_lifetime=90 * DAY), None)
    assert lifetime_under(policy, ["global"], 90 * DAY) == 90 * DAY
    with pytest.raises(InvalidParams) as refused:
        lifetime_under(policy, ["global"], 90 * DAY + 1)
    assert refused.value.field == "expires_in"
    assert str(refused.value) == (
        "expires_in is over the longest lifetime this account allows, 90 days "
        "(OSTIARY_TOKEN_MAX_LIFETIME)."
    )


def test_an_accounts_own_limit_is_named_as_the_accounts() -> None:
    policy = combine(PolicySettings(), AccountSettings(max_lifetime=7 * DAY))
    with pytest.raises(InvalidParams, match=r"1 week \(this account's token policy"):
        lifetime_under(policy, ["read"], 7 * DAY + 1)


def test_no_expiry_under_a_maximum_gets_the_maximum() -> None:
    policy = combine(PolicySettings(max_lifetime=3600), None)
    assert lifetime_under(policy, ["global"], None) == 3600


def test_a_login_is_capped_to_the_maximum_not_refused() -> None:
    policy = combine(PolicySettings(max_lifetime=3600), None)
    assert lifetime_under(policy, ["global"], 365 * DAY, cap=True) == 3600
    assert lifetime_under(policy, ["global"], 60, cap=True) == 60


def test_no_expiry_is_refused_when_non_expiring_tokens_are_not_allowed() -> None:
    policy = combine(PolicySettings(allow_non_expiring=False), None)
    with pytest.raises(InvalidParams, match="OSTIARY_TOKEN_ALLOW_NON_EXPIRING"):
        lifetime_under(policy, ["read"], None)
    assert lifetime_under(policy, ["read"], 1) == 1


def test_a_non_expiring_token_may_carry_only_the_allowed_scopes() -> None:
    policy = combine(PolicySettings(non_expiring_scopes=("read", "identity")), None)
    assert lifetime_under(policy, ["read", "identity"], None) is None
    with pytest.raises(InvalidParams, match="OSTIARY_TOKEN_NON_EXPIRING_SCOPES"):
        lifetime_under(policy, ["global"], None)
    with pytest.raises(InvalidParams, match="read, identity"):
        lifetime_under(policy, ["read", "write"], None)
    # With an expiry the scopes are not limited.
    assert lifetime_under(policy, ["global"], DAY) == DAY


def test_an_account_may_set_exactly_the_servers_limit_but_not_one_second_more() -> None:
    server = PolicySettings(max_lifetime=90 * DAY, api_key_max_age=DAY, idle_revoke_after=DAY)
    check_within_server(server, AccountSettings(max_lifetime=90 * DAY, api_key_max_age=DAY))
    for name in ("max_lifetime", "api_key_max_age", "idle_revoke_after"):
        limit = getattr(server, name)
        with pytest.raises(InvalidParams) as refused:
            check_within_server(server, AccountSettings(**{name: limit + 1}))
        assert refused.value.field == name
        assert "server's limit" in str(refused.value)


def test_the_loosening_message_names_the_setting_and_the_servers_limit() -> None:
    with pytest.raises(InvalidParams) as refused:
        check_within_server(
            PolicySettings(max_lifetime=90 * DAY), AccountSettings(max_lifetime=91 * DAY)
        )
    assert str(refused.value).startswith(
        "max_lifetime cannot be weaker than the server's limit, 90 days "
        "(OSTIARY_TOKEN_MAX_LIFETIME)"
    )


def test_an_account_cannot_allow_what_the_server_forbids() -> None:
    server = PolicySettings(allow_non_expiring=False, non_expiring_scopes=("read",))
    with pytest.raises(InvalidParams, match="allow_non_expiring"):
        check_within_server(server, AccountSettings(allow_non_expiring=True))
    with pytest.raises(InvalidParams, match="non_expiring_scopes"):
        check_within_server(server, AccountSettings(non_expiring_scopes=("read", "global")))
    check_within_server(server, AccountSettings(allow_non_expiring=False, non_expiring_scopes=()))


def test_stricter_means_a_new_or_shorter_limit() -> None:
    loose = PolicySettings(max_lifetime=90 * DAY)
    assert is_stricter(loose, PolicySettings(max_lifetime=90 * DAY - 1))
    assert is_stricter(PolicySettings(), PolicySettings(api_key_max_age=DAY))
    assert is_stricter(PolicySettings(), PolicySettings(allow_non_expiring=False))
    assert is_stricter(PolicySettings(), PolicySettings(non_expiring_scopes=("read",)))
    assert not is_stricter(loose, loose)
    assert not is_stricter(loose, PolicySettings(max_lifetime=91 * DAY))


def test_a_token_made_before_the_change_expires_at_the_limit_counted_from_the_change() -> None:
    made = AT - timedelta(days=100)
    changed = AT
    assert effective_expiry(None, made, 30 * DAY, changed) == changed + timedelta(days=30)
    far = AT + timedelta(days=300)
    assert effective_expiry(far, made, 30 * DAY, changed) == changed + timedelta(days=30)
    # One that expires sooner keeps its own expiry; one made after the change counts from
    # its creation.
    soon = AT + timedelta(days=1)
    assert effective_expiry(soon, made, 30 * DAY, changed) == soon
    later = AT + timedelta(days=2)
    assert effective_expiry(None, later, 30 * DAY, changed) == later + timedelta(days=30)
    # Without a tightening nothing changes.
    assert effective_expiry(None, made, 30 * DAY, None) is None


def test_out_of_policy_tokens() -> None:
    policy = combine(PolicySettings(max_lifetime=30 * DAY), None)
    assert is_out_of_policy(policy, ["global"], None, AT)
    assert is_out_of_policy(policy, ["global"], AT + timedelta(days=30, seconds=1), AT)
    assert not is_out_of_policy(policy, ["global"], AT + timedelta(days=30), AT)
    scoped = combine(PolicySettings(non_expiring_scopes=("read",)), None)
    assert is_out_of_policy(scoped, ["global"], None, AT)
    assert not is_out_of_policy(scoped, ["read"], None, AT)
    assert not is_out_of_policy(combine(PolicySettings(), None), ["global"], None, AT)


def test_the_api_key_must_be_regenerated_at_its_maximum_age() -> None:
    assert api_key_expiry(AT, 2) == AT + timedelta(seconds=2)
    assert api_key_expiry(AT, None) is None


def test_an_account_duration_is_at_most_ten_years() -> None:
    check_within_server(PolicySettings(), AccountSettings(max_lifetime=10 * 365 * DAY))
    with pytest.raises(InvalidParams, match="10 years"):
        check_within_server(PolicySettings(), AccountSettings(max_lifetime=10 * 365 * DAY + 1))
