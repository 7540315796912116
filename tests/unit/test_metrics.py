"""``ostiary.metrics``: what the counting helpers do with the labels they are given."""

from __future__ import annotations

from prometheus_client import REGISTRY

from ostiary.metrics import count_auth_failure, count_token_issued


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_auth_failures_are_counted_by_credential_and_reason() -> None:
    name = "ostiary_auth_failures_total"
    for action, credential, reason in (
        ("auth:failure", "token", "revoked token"),
        ("auth:password:failure", "password", "wrong password"),
        ("oauth:client:auth-failure", "client", "a public client sent a secret"),
    ):
        labels = {"credential": credential, "reason": reason.replace(" ", "_")}
        before = _value(name, **labels)
        count_auth_failure(action, reason)
        assert _value(name, **labels) == before + 1


def test_other_audit_events_are_not_failures() -> None:
    before = sum(_value("ostiary_auth_failures_total", credential=c, reason="x") for c in "abc")
    count_auth_failure("token:api-key:regenerate", "x")
    assert (
        sum(_value("ostiary_auth_failures_total", credential=c, reason="x") for c in "abc")
        == before
    )


def test_a_reason_that_is_not_a_short_phrase_is_counted_as_other() -> None:
    labels = {"credential": "token", "reason": "other"}
    before = _value("ostiary_auth_failures_total", **labels)
    for reason in (None, 42, "", "x" * 65, "token ostk_abc123", "naïve", "a/b"):
        count_auth_failure("auth:failure", reason)
    assert _value("ostiary_auth_failures_total", **labels) == before + 7


def test_tokens_issued_by_a_grant_nobody_named_are_counted_as_other() -> None:
    before = _value("ostiary_tokens_issued_total", grant="other")
    device = _value("ostiary_tokens_issued_total", grant="device_code")
    count_token_issued("made-up-grant")
    count_token_issued("urn:ietf:params:oauth:grant-type:device_code")
    assert _value("ostiary_tokens_issued_total", grant="other") == before + 1
    assert _value("ostiary_tokens_issued_total", grant="device_code") == device + 1
