"""What makes two findings one alert, what an alert may say, and which policies are valid."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from ostiary.alerts.records import RULES, Anomaly, Rule
from ostiary.alerts.rules import finding_of, safe_facts, summary_of, validated_suspend_on
from ostiary.errors import InvalidParams

AT = datetime(2026, 12, 1, 10, 15, tzinfo=UTC)


def _anomaly(rule: Rule, at: datetime = AT, **details: object) -> Anomaly:
    return Anomaly(rule, "account", "authorization", at, dict(details))


def test_spike_and_probing_are_one_finding_per_credential_per_hour() -> None:
    for rule in ("spike", "probing"):
        assert finding_of(_anomaly(rule)) == finding_of(_anomaly(rule, AT.replace(minute=59)))
        assert finding_of(_anomaly(rule)) != finding_of(_anomaly(rule, AT.replace(hour=11)))
    # The hour the detector counted wins over the moment it flushed.
    assert finding_of(_anomaly("spike", hour="2026-12-01T09:00:00Z")).endswith("2026-12-01T09")


def test_new_network_is_one_finding_per_network() -> None:
    one = finding_of(_anomaly("new-network", network="203.0.113.0/24"))
    assert one == finding_of(_anomaly("new-network", AT.replace(day=2), network="203.0.113.0/24"))
    assert one != finding_of(_anomaly("new-network", network="198.51.100.0/24"))


def test_new_user_agent_is_one_finding_per_family() -> None:
    one = finding_of(_anomaly("new-user-agent", family="curl"))
    assert one == finding_of(_anomaly("new-user-agent", AT.replace(day=9), family="curl"))
    assert one != finding_of(_anomaly("new-user-agent", family="Firefox"))


def test_dormant_use_is_one_finding_per_dormancy() -> None:
    one = finding_of(_anomaly("dormant-use", last_used_at="2026-10-01T00:00:00+00:00"))
    assert one == finding_of(
        _anomaly("dormant-use", AT.replace(hour=12), last_used_at="2026-10-01T00:00:00+00:00")
    )
    assert one != finding_of(_anomaly("dormant-use", last_used_at="2026-11-01T00:00:00+00:00"))
    assert finding_of(_anomaly("dormant-use", last_used_at=None)).endswith(":never")


def test_dead_credential_is_one_finding_per_credential_per_day() -> None:
    one = finding_of(_anomaly("dead-credential"))
    assert one == finding_of(_anomaly("dead-credential", AT.replace(hour=23)))
    assert one != finding_of(_anomaly("dead-credential", AT.replace(day=2)))
    other = Anomaly("dead-credential", "account", "another", AT, {})
    assert finding_of(other) != one


def test_facts_never_carry_a_secret() -> None:
    token = "ostk_" + "a" * 36
    kept = safe_facts(
        {
            "address": "203.0.113.5",
            "token": "anything",
            "client_secret": "x",
            "password": "y",
            "code": "z",
            "note": token,
            "said": f"Bearer {token[:-1]}",
            "nested": {"refresh_token": "r", "requests": 5},
        }
    )
    assert kept == {"address": "203.0.113.5", "nested": {"requests": 5}}


def test_facts_are_stored_as_json_holds_them() -> None:
    kept = safe_facts(
        {"at": AT, "families": {"curl"}, "pair": ("a", "ostk_" + "c" * 30), "n": 2.5, "x": object}
    )
    assert kept["at"] == "2026-12-01T10:15:00+00:00"
    assert kept["families"] == ["curl"]
    assert kept["pair"] == ["a"]
    assert kept["n"] == 2.5
    assert isinstance(kept["x"], str)


def test_summary_names_the_credential_and_the_facts() -> None:
    text = summary_of(
        "dead-credential", "CI deploys", {"reason": "revoked token", "address": "::1"}
    )
    assert text == (
        "A revoked token of CI deploys was presented again (from ::1); "
        "someone may hold a leaked copy."
    )
    assert "?" not in summary_of("dormant-use", "API key", {"days": 40})
    for rule in RULES:
        assert summary_of(rule, "X", {}).strip()


def test_policy_rules_are_checked() -> None:
    assert validated_suspend_on(["probing", "spike", "spike"]) == ["spike", "probing"]
    with pytest.raises(InvalidParams) as refused:
        validated_suspend_on(["spike", "everything"])
    assert refused.value.field == "suspend_on"


@pytest.mark.parametrize(
    "rule", ["leaked", "expiring", "expired", "idle-revocation", "idle-revoked"]
)
def test_a_lifecycle_notice_cannot_suspend_and_is_one_finding_per_occasion(rule: Rule) -> None:
    with pytest.raises(InvalidParams) as refused:
        validated_suspend_on(["spike", rule])
    assert rule in refused.value.message
    once = finding_of(_anomaly(rule, occasion="7d:2026-12-08T00:00:00Z"))
    assert once == finding_of(_anomaly(rule, AT.replace(day=3), occasion="7d:2026-12-08T00:00:00Z"))
    assert once != finding_of(_anomaly(rule, occasion="1d:2026-12-08T00:00:00Z"))


def test_every_rule_has_a_summary_of_its_own() -> None:
    for rule in RULES:
        assert not summary_of(rule, "CI deploys", {}).endswith(f": {rule}"), rule
