"""Refresh token rotation, its grace window and reuse detection (RFC 9700 section 4.14.2; rules
R16, R17, R19), decided by the protocol core against an in-memory family."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ostiary.errors import Forbidden, GrantReuse, InvalidGrant
from ostiary.oauth2.errors import OAuthError
from ostiary.oauth2.refresh_rotation import GRACE, Presented, classify
from ostiary.oauth2.rfc6749.grants import refresh_token
from ostiary.scopes import parse_scopes
from tests.unit.oauth2.fakes import FakeClient, FakeRefreshes

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
CLIENT = FakeClient("client-1")


def _refresh(family: FakeRefreshes, token: str, *, scope: str | None = None) -> str:
    form = {"refresh_token": token} | ({"scope": scope} if scope else {})
    issued = refresh_token.grant(family, CLIENT, form, family.now, parse_scopes)
    assert issued.refresh_token is not None
    return issued.refresh_token


def test_each_use_rotates_and_the_new_token_is_the_live_one() -> None:
    family = FakeRefreshes("client-1", NOW)
    second = _refresh(family, "r0")
    assert second == "r1"
    assert _refresh(family, second) == "r2"
    assert family.issued == [(0, True), (1, True)]


def test_an_older_generation_revokes_the_whole_family() -> None:
    family = FakeRefreshes("client-1", NOW)
    _refresh(family, "r0")
    _refresh(family, "r1")
    with pytest.raises(GrantReuse):
        _refresh(family, "r0")  # two generations old: a leaked copy
    assert family.family_revoked
    with pytest.raises(InvalidGrant):
        _refresh(family, "r2")  # the legitimate holder is logged out too


def test_the_predecessor_within_the_grace_window_gets_a_sibling_not_a_new_generation() -> None:
    family = FakeRefreshes("client-1", NOW)
    _refresh(family, "r0")  # rotated at NOW
    family.now = NOW + GRACE - timedelta(seconds=1)
    assert _refresh(family, "r0") == "r1"  # the racing request: same live generation
    assert family.current == 1
    assert not family.family_revoked


def test_the_predecessor_after_the_grace_window_is_reuse() -> None:
    family = FakeRefreshes("client-1", NOW)
    _refresh(family, "r0")
    family.now = NOW + GRACE + timedelta(seconds=1)
    with pytest.raises(GrantReuse):
        _refresh(family, "r0")
    assert family.family_revoked


def test_classify_names_every_case() -> None:
    family = FakeRefreshes("client-1", NOW, current=3, rotated_at={2: NOW})
    stored = family.find_refresh
    assert classify(stored("r3"), NOW) is Presented.CURRENT  # type: ignore[arg-type]
    assert classify(stored("r2"), NOW + GRACE) is Presented.RACING  # type: ignore[arg-type]
    assert classify(stored("r1"), NOW) is Presented.REUSED  # type: ignore[arg-type]
    # A predecessor that was never rotated (no time recorded) gets no grace.
    assert classify(stored("r2"), NOW, timedelta(0)) is Presented.RACING  # type: ignore[arg-type]
    family.rotated_at.clear()
    assert classify(stored("r2"), NOW) is Presented.REUSED  # type: ignore[arg-type]


def test_a_refresh_cannot_widen_scope_but_may_name_a_narrower_one() -> None:
    family = FakeRefreshes("client-1", NOW, scopes=["read"])
    with pytest.raises(Forbidden):
        _refresh(family, "r0", scope="read write")
    assert family.current == 0  # nothing was issued
    assert _refresh(family, "r0", scope="read") == "r1"


def test_another_clients_refresh_token_is_refused_and_spends_nothing() -> None:
    family = FakeRefreshes("someone-else", NOW)
    with pytest.raises(InvalidGrant):
        _refresh(family, "r0")
    assert family.current == 0
    assert not family.family_revoked


def test_unknown_missing_and_revoked_tokens() -> None:
    family = FakeRefreshes("client-1", NOW)
    with pytest.raises(InvalidGrant):
        _refresh(family, "not-a-token")
    with pytest.raises(OAuthError) as missing:
        refresh_token.grant(family, CLIENT, {}, NOW, parse_scopes)
    assert missing.value.error == "invalid_request"
    family.active = False
    with pytest.raises(InvalidGrant):
        _refresh(family, "r0")
