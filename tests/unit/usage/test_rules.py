"""Each anomaly rule at its edge: just under and just over its threshold."""

from __future__ import annotations

from ostiary.usage import rules
from ostiary.usage.rules import Thresholds

DEFAULT = Thresholds()


def test_the_median_counts_the_hours_without_requests_as_zero() -> None:
    assert rules.hourly_median([5] * 84) == 2.5  # half the 168 hours at 5, half at 0
    assert rules.hourly_median([5] * 85) == 5.0
    assert rules.hourly_median([]) == 0.0


def test_a_spike_is_over_factor_times_the_median_and_over_the_floor() -> None:
    median = 20.0  # factor 10: the line is 200
    assert not rules.is_spike(200, median, DEFAULT)
    assert rules.is_spike(201, median, DEFAULT)


def test_a_spike_needs_more_than_the_floor() -> None:
    # A credential never used before (median 0): only the floor holds it back.
    assert not rules.is_spike(100, 0.0, DEFAULT)
    assert rules.is_spike(101, 0.0, DEFAULT)
    assert not rules.is_spike(101, 0.0, Thresholds(spike_floor=101))


def test_a_spike_begins_once_when_the_count_crosses_the_line() -> None:
    assert rules.spike_begins(100, 101, 0.0, DEFAULT)
    assert not rules.spike_begins(101, 150, 0.0, DEFAULT)  # already a spike: not again
    assert not rules.spike_begins(50, 100, 0.0, DEFAULT)


def test_networks_are_slash_24_and_slash_48() -> None:
    assert str(rules.network_of("203.0.113.77")) == "203.0.113.0/24"
    assert str(rules.network_of("2001:db8:1:2::5")) == "2001:db8:1::/48"
    assert str(rules.network_of("::ffff:198.51.100.9")) == "198.51.100.0/24"
    assert rules.network_of("testclient") is None


def test_an_address_in_a_known_network_is_not_new() -> None:
    recent = ["203.0.113.5", "2001:db8:1::1"]
    assert rules.new_networks(["203.0.113.250"], recent, used_before=True) == []
    assert rules.new_networks(["2001:db8:1:ffff::1"], recent, used_before=True) == []


def test_an_address_just_outside_every_known_network_is_new() -> None:
    recent = ["203.0.113.5", "2001:db8:1::1"]
    found = rules.new_networks(["203.0.114.5", "2001:db8:2::1"], recent, used_before=True)
    assert [(address, str(net)) for address, net in found] == [
        ("203.0.114.5", "203.0.114.0/24"),
        ("2001:db8:2::1", "2001:db8:2::/48"),
    ]


def test_two_new_addresses_of_one_network_are_one_finding() -> None:
    found = rules.new_networks(["198.51.100.1", "198.51.100.2"], ["10.0.0.1"], used_before=True)
    assert [address for address, _ in found] == ["198.51.100.1"]


def test_the_first_use_of_a_credential_is_no_new_network() -> None:
    assert rules.new_networks(["198.51.100.1"], [], used_before=False) == []
    # Used before, but from nowhere within the last 30 days: every network is new.
    assert len(rules.new_networks(["198.51.100.1"], [], used_before=True)) == 1


def test_a_new_user_agent_family_is_one_not_known() -> None:
    assert rules.new_families(["curl", "Firefox", "curl"], {"heroku"}) == ["curl", "Firefox"]
    assert rules.new_families(["heroku"], {"heroku"}) == []
    assert rules.new_families(["curl"], set()) == []  # the first use


def test_probing_is_at_least_the_threshold() -> None:
    assert not rules.is_probing(19, 20)
    assert rules.is_probing(20, 20)
    assert rules.probing_begins(19, 20, 20)
    assert not rules.probing_begins(20, 25, 20)
