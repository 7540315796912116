"""The webhooks' rules: where a webhook may point, what it takes, what a payload may carry,
and when a failed delivery is tried again."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from ostiary.security.tokens import TokenKind, mint_token
from ostiary.webhooks.errors import InvalidWebhook
from ostiary.webhooks.rules import (
    LONGEST_RETRY,
    checked_include,
    checked_url,
    include_for,
    redacted,
    retry_delay,
)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/ostiary",
        "https://hooks.example.com:8443/a?b=c",
        "https://10.0.0.5/hooks",  # private networks stay allowed (self-hosted platforms)
        "https://192.168.1.20:8443/hooks",
        "https://[fd00::5]/hooks",
        "https://127.0.0.1.example.com/hooks",  # a name that only looks like loopback
    ],
)
def test_https_urls_are_accepted(url: str) -> None:
    assert checked_url(url) == url


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/hooks",
        "http://localhost/hooks",
        "http://[::1]:9000/",
        "https://127.0.0.1:9/hooks",
    ],
)
def test_loopback_is_accepted_only_when_the_setting_allows_it(url: str) -> None:
    assert checked_url(url, allow_loopback=True) == url
    with pytest.raises(InvalidWebhook) as refused:
        checked_url(url)
    assert refused.value.field == "url"


@pytest.mark.parametrize(
    "url",
    [
        "https://127.0.0.1/admin",
        "https://127.8.9.10/",
        "https://localhost:2375/containers",  # a local admin port
        "https://LOCALHOST./",
        "https://api.localhost/",  # RFC 6761: every name under localhost
        "https://[::1]/",
        "https://[::ffff:127.0.0.1]/",  # IPv4-mapped
        "https://[::ffff:7f00:1]/",
        "https://0.0.0.0:8080/",  # unspecified: connects to this machine
        "https://[::]/",
        "https://169.254.169.254/latest/meta-data/",  # the clouds' metadata service
        "https://[::ffff:169.254.169.254]/",
        "https://[fe80::1]/",
        "https://127.1/",  # the resolver's short IPv4 forms
        "https://2130706433/",
        "https://0x7f000001/",
        "https://0177.0.0.1/",
        "http://127.0.0.1:8080/hooks",
    ],
)
def test_urls_naming_this_machine_are_refused_by_default(url: str) -> None:
    with pytest.raises(InvalidWebhook) as refused:
        checked_url(url)
    assert refused.value.field == "url"


@pytest.mark.parametrize(
    "url",
    [
        "http://hooks.example.com/ostiary",  # plain http off this machine
        "http://10.0.0.5/hooks",
        "http://127.0.0.1.example.com/hooks",
        "ftp://hooks.example.com/",
        "javascript:alert(1)",
        "https://user:pass@hooks.example.com/",  # credentials in the URL
        "https://token@hooks.example.com/",
        "https:///no-host",
        "/relative/path",
        "https://hooks.example.com/a b",
        "https://hooks.example.com/\nX-Injected: 1",
        "https://hooks.example.com:notaport/",
        "https://example.com/" + "a" * 2000,
        "",
        None,
        42,
    ],
)
def test_other_urls_are_refused(url: object) -> None:
    with pytest.raises(InvalidWebhook) as refused:
        checked_url(url)
    assert refused.value.field == "url"


def test_include_takes_alert_and_event_only() -> None:
    assert checked_include(["alert", "event", "alert"]) == ["alert", "event"]
    for bad in ([], ["api:release"], "alert", None, [["alert"]]):
        with pytest.raises(InvalidWebhook):
            checked_include(bad)


def test_which_events_reach_which_subscription() -> None:
    assert include_for("alert:spike", ["alert"]) == "alert"
    assert include_for("alert:spike", ["event"]) == "event"
    assert include_for("alert:spike", ["alert", "event"]) == "alert"
    assert include_for("token:api-key:regenerate", ["alert"]) is None
    assert include_for("token:api-key:regenerate", ["event"]) == "event"


def test_no_secret_survives_redaction() -> None:
    token = mint_token(TokenKind.API_KEY)
    details = {
        "secret": "s3cret",
        "client_secret": "x",
        "password": "hunter2",
        "token": "abc",
        "code": "123456",
        "note": token,  # a token pasted where nobody expected one
        "nested": {"refresh_token": "r", "list": [token, "plain"]},
        "token_id": "3f2a",  # ids are not secrets
        "status_code": 401,
        "rule": "spike",
    }
    kept = redacted(details)
    assert kept == {
        "note": "[redacted]",
        "nested": {"list": ["[redacted]", "plain"]},
        "token_id": "3f2a",
        "status_code": 401,
        "rule": "spike",
    }
    assert token not in repr(kept)


def test_retries_back_off_exponentially_with_jitter_up_to_a_cap() -> None:
    rng = random.Random(7)
    first = [retry_delay(1, rng) for _ in range(50)]
    assert all(timedelta(seconds=15) <= delay <= timedelta(seconds=30) for delay in first)
    assert len({delay.total_seconds() for delay in first}) > 40  # jittered, not one value
    fourth = [retry_delay(4, rng) for _ in range(50)]
    assert all(timedelta(seconds=120) <= delay <= timedelta(seconds=240) for delay in fourth)
    late = [retry_delay(40, rng) for _ in range(50)]
    assert all(LONGEST_RETRY / 2 <= delay <= LONGEST_RETRY for delay in late)
