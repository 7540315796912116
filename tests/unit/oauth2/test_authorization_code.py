"""The authorization code grant's rules (RFC 6749 section 4.1.3; RFC 7636 section 4.6; rules R8,
R10, R11), against an in-memory code store."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from ostiary.errors import GrantReuse, InvalidGrant
from ostiary.oauth2.errors import OAuthError
from ostiary.oauth2.protocols import StoredCode
from ostiary.oauth2.rfc6749.grants import authorization_code
from ostiary.oauth2.rfc7636 import s256
from tests.unit.oauth2.fakes import FakeClient, FakeCodes

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
CONFIDENTIAL = FakeClient("client-1")
PUBLIC = FakeClient("client-1", is_public=True)


def _codes(**overrides: object) -> FakeCodes:
    stored = StoredCode(
        id="grant-1",
        client_id="client-1",
        used=False,
        expires_at=NOW + timedelta(minutes=5),
        redirect_uri="https://app.example/callback",
        code_challenge=s256(VERIFIER),
        authorization_active=True,
    )
    return FakeCodes({"the-code": replace(stored, **overrides)})  # type: ignore[arg-type]


def _form(**extra: str) -> dict[str, str]:
    return {
        "code": "the-code",
        "code_verifier": VERIFIER,
        "redirect_uri": "https://app.example/callback",
    } | extra


def test_a_bound_code_is_redeemed_once() -> None:
    codes = _codes()
    issued = authorization_code.grant(codes, CONFIDENTIAL, _form(), NOW)
    assert issued.access_token == "access-grant-1"
    assert codes.redeemed == ["grant-1"]
    with pytest.raises(GrantReuse):
        authorization_code.grant(codes, CONFIDENTIAL, _form(), NOW)
    assert codes.revoked == ["grant-1"]  # the replay revoked what the code had issued


@pytest.mark.parametrize(
    "form",
    [
        _form(code_verifier="x" * 43),  # wrong verifier
        {k: v for k, v in _form().items() if k != "code_verifier"},  # missing verifier
        _form(redirect_uri="https://app.example/other"),  # another redirect URI
    ],
)
def test_the_code_is_bound_to_its_verifier_and_redirect_uri(form: dict[str, str]) -> None:
    codes = _codes()
    with pytest.raises(InvalidGrant):
        authorization_code.grant(codes, CONFIDENTIAL, form, NOW)
    assert codes.redeemed == []


def test_a_verifier_for_a_code_issued_without_challenge_is_refused() -> None:
    codes = _codes(code_challenge=None)
    with pytest.raises(InvalidGrant):
        authorization_code.grant(codes, CONFIDENTIAL, _form(), NOW)


def test_a_public_client_must_send_a_verifier() -> None:
    codes = _codes(code_challenge=None)
    form = {k: v for k, v in _form().items() if k != "code_verifier"}
    with pytest.raises(OAuthError) as refused:
        authorization_code.grant(codes, PUBLIC, form, NOW)
    assert refused.value.error == "invalid_grant"
    assert codes.redeemed == []


def test_expired_foreign_and_revoked_codes_are_refused() -> None:
    for codes, client in (
        (_codes(expires_at=NOW), CONFIDENTIAL),
        (_codes(client_id="client-2"), CONFIDENTIAL),
        (_codes(authorization_active=False), CONFIDENTIAL),
        (_codes(client_id=None), CONFIDENTIAL),
    ):
        with pytest.raises(InvalidGrant):
            authorization_code.grant(codes, client, _form(), NOW)
        assert codes.redeemed == []
        assert codes.revoked == []
