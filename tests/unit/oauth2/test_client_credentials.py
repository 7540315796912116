"""The client credentials grant's rules (RFC 6749 section 4.4), without storage."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from ostiary.errors import GrantNotAllowed, InvalidGrant
from ostiary.oauth2.errors import OAuthError
from ostiary.oauth2.protocols import Client, TokenSet
from ostiary.oauth2.rfc6749.grants.client_credentials import grant
from tests.unit.oauth2.fakes import FakeClient


@dataclass
class Issued:
    """A ClientCredentialsStore that records what it was asked to issue."""

    calls: list[tuple[str, str, list[str]]] = field(default_factory=list)

    def issue_client_credentials(
        self, client: Client, owner_id: str, scopes: list[str]
    ) -> TokenSet:
        self.calls.append((client.id, owner_id, scopes))
        return TokenSet("access", None, scopes, owner_id, None)


def _grant(client: FakeClient, form: dict[str, str] | None = None) -> Issued:
    store = Issued()
    grant(store, client, form or {}, lambda text: text.split())
    return store


ALLOWED = FakeClient(id="c", client_credentials_scopes=["read", "write"])


def test_a_token_for_the_owner_within_the_allowed_scopes() -> None:
    assert _grant(ALLOWED).calls == [("c", "owner", ["read", "write"])]
    assert _grant(ALLOWED, {"scope": "write read write"}).calls == [
        ("c", "owner", ["read", "write"])
    ]


def test_more_scope_than_allowed_is_invalid_grant() -> None:
    with pytest.raises(InvalidGrant, match="exceeds"):
        _grant(ALLOWED, {"scope": "read global"})


def test_a_public_client_or_one_without_the_grant_is_refused() -> None:
    with pytest.raises(OAuthError) as refused:
        _grant(FakeClient(id="p", is_public=True, client_credentials_scopes=["read"]))
    assert refused.value.error == "unauthorized_client"
    with pytest.raises(GrantNotAllowed):
        _grant(FakeClient(id="n"))
    with pytest.raises(GrantNotAllowed):  # a first-party client has no owner to act for
        _grant(FakeClient(id="f", owner_id=None, client_credentials_scopes=["read"]))


def test_no_token_acts_for_a_disabled_owner() -> None:
    disabled = FakeClient(id="c", client_credentials_scopes=["read"], owner_active=False)
    with pytest.raises(InvalidGrant, match="disabled"):
        _grant(disabled)
