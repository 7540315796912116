"""The rules of authorizations decided without storage: lifetimes and who may create,
regenerate and make machine credentials (docs/architecture.md, "Tokens")."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ostiary.errors import InvalidParams
from ostiary.oauth_clients.models import OAuthClient
from ostiary.tokens.errors import CredentialNotAllowed
from ostiary.tokens.models import Authorization, AuthorizationKind
from ostiary.tokens.rules import (
    MAX_EXPIRES_IN,
    access_expiry,
    check_may_create_authorizations,
    check_may_make_machine_credentials,
    check_may_regenerate,
    is_root_credential,
    parse_expires_in,
)


def _authorization(kind: AuthorizationKind, **fields: object) -> Authorization:
    return Authorization(kind=kind, scopes=["global"], **fields)


def test_expires_in_takes_seconds_as_a_number_or_numeric_string_or_null() -> None:
    assert parse_expires_in(None) is None
    assert parse_expires_in(60) == 60
    assert parse_expires_in(" 3600 ") == 3600  # the heroku CLI sends a string
    for bad in (True, 0, -1, MAX_EXPIRES_IN + 1, "soon", 1.5, "1e3"):
        with pytest.raises(InvalidParams):
            parse_expires_in(bad)


def test_oauth_access_tokens_are_short_lived_within_their_authorization() -> None:
    soon = datetime.now(UTC) + timedelta(minutes=5)
    oauth = _authorization(AuthorizationKind.OAUTH, expires_at=soon)
    expiry = access_expiry(oauth, oauth_ttl=3600)
    assert expiry == soon  # never past the authorization
    personal = _authorization(AuthorizationKind.PERSONAL, expires_at=None)
    assert access_expiry(personal, oauth_ttl=3600) is None  # lives as long as its authorization


def test_machine_and_third_party_tokens_cannot_create_authorizations() -> None:
    with pytest.raises(CredentialNotAllowed):
        check_may_create_authorizations(_authorization(AuthorizationKind.CLIENT_CREDENTIALS))
    third_party = _authorization(AuthorizationKind.OAUTH)
    third_party.client = OAuthClient(owner_id="someone", name="App", redirect_uris=[])
    with pytest.raises(CredentialNotAllowed):
        check_may_create_authorizations(third_party)
    first_party = _authorization(AuthorizationKind.OAUTH)
    first_party.client = OAuthClient(owner_id=None, name="Ostiary CLI", redirect_uris=[])
    check_may_create_authorizations(first_party)
    check_may_create_authorizations(_authorization(AuthorizationKind.API_KEY))


def test_only_root_credentials_act_outside_their_lineage() -> None:
    key = _authorization(AuthorizationKind.API_KEY)
    child = _authorization(AuthorizationKind.PERSONAL, parent_id="parent")
    in_session = _authorization(AuthorizationKind.PERSONAL, session_id="session")
    assert is_root_credential(key)
    assert is_root_credential(_authorization(AuthorizationKind.PERSONAL))
    assert not is_root_credential(child)
    assert not is_root_credential(in_session)
    check_may_regenerate(key, target_made_by_caller=False)
    check_may_regenerate(child, target_made_by_caller=True)
    with pytest.raises(CredentialNotAllowed):
        check_may_regenerate(child, target_made_by_caller=False)
    check_may_make_machine_credentials(key)
    with pytest.raises(CredentialNotAllowed):
        check_may_make_machine_credentials(in_session)
