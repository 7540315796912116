"""Authorizations made with a token are that token's children (issue 10, item 1).

Each test tries the escape a stolen or soon-revoked token would attempt, minting a token that
outlives it, and sees it refused or undone.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy import select

from ostiary.accounts.models import LoginSession
from ostiary.oauth_clients.first_party import CLI_CLIENT_ID
from ostiary.tokens.models import Authorization
from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.oauth_flow import (
    OAuthBrowser,
    api_status,
    device_approve,
    device_poll,
    device_start,
    register,
    token_request,
)
from tests.support.server import ServerProcess


def _create(server: ServerProcess, token: str, **body: Any) -> httpx.Response:
    with server.client(token) as api:
        return api.post("/oauth/authorizations", json=body)


def _child(server: ServerProcess, token: str, **body: Any) -> dict[str, Any]:
    response = _create(server, token, **body)
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def _third_party_token(
    server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> dict[str, Any]:
    developer_client = register(server, user.api_key)
    code = browser.code_for(response_type="code", client_id=developer_client["id"], scope="global")[
        "code"
    ]
    tokens: dict[str, Any] = token_request(
        server,
        {"grant_type": "authorization_code", "code": code},
        auth=(developer_client["id"], developer_client["secret"]),
    ).json()
    return tokens


def test_a_third_party_apps_token_cannot_create_authorizations(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    tokens = _third_party_token(tls_server, user, browser)
    refused = _create(tls_server, tokens["access_token"], description="persistence", scope=["read"])
    assert refused.status_code == 403
    assert refused.json()["id"] == "forbidden"
    assert "third-party" in refused.json()["message"]


def test_a_client_credentials_token_cannot_create_authorizations(
    tls_server: ServerProcess, user: UserAccount
) -> None:
    client = register(tls_server, user.api_key, client_credentials_scopes=["global"])
    issued = token_request(
        tls_server,
        {"grant_type": "client_credentials", "scope": "global"},
        auth=(client["id"], client["secret"]),
    )
    assert issued.status_code == 200, issued.text
    refused = _create(tls_server, issued.json()["access_token"], scope=["read"])
    assert refused.status_code == 403
    assert refused.json()["id"] == "forbidden"


def test_a_child_dies_with_its_revoked_parent_and_so_do_its_own_children(
    tls_server: ServerProcess, user: UserAccount
) -> None:
    parent = _child(tls_server, user.api_key, description="parent")
    parent_token = parent["access_token"]["token"]
    child = _child(tls_server, parent_token, description="child", expires_in=None)
    assert child["parent"] == {"id": parent["id"]}
    grandchild = _child(tls_server, child["access_token"]["token"], description="grandchild")
    for token in (parent_token, child["access_token"]["token"]):
        assert api_status(tls_server, token) == 200

    with tls_server.client(user.api_key) as api:
        assert api.delete(f"/oauth/authorizations/{parent['id']}").status_code == 200
        listed = {a["id"] for a in api.get("/oauth/authorizations").json()}
    assert api_status(tls_server, child["access_token"]["token"]) == 401
    assert api_status(tls_server, grandchild["access_token"]["token"]) == 401
    assert {child["id"], grandchild["id"]} & listed == set()


def _revoked_at(factory: Factory, ids: list[str]) -> dict[str, object]:
    """When each of these authorizations was revoked (None: live); absent ones are missing."""
    with factory.database.unit_of_work(write=False) as session:
        rows = session.execute(
            select(Authorization.id, Authorization.revoked_at).where(Authorization.id.in_(ids))
        )
        return dict(rows.all())


def test_revoking_a_grandparent_refuses_the_grandchild_and_keeps_every_row(
    tls_factory: Factory, tls_server: ServerProcess
) -> None:
    """Revoking marks the authorization and its descendants and deletes nothing, so that what
    was revoked can still be named (the purge deletes the rows after a retention)."""
    owner = tls_factory.account("grandparent")
    grandparent = _child(tls_server, owner.api_key, description="grandparent")
    parent = _child(tls_server, grandparent["access_token"]["token"], description="parent")
    grandchild = _child(tls_server, parent["access_token"]["token"], description="grandchild")
    assert api_status(tls_server, grandchild["access_token"]["token"]) == 200
    with tls_server.client(owner.api_key) as api:
        assert api.delete(f"/oauth/authorizations/{grandparent['id']}").status_code == 200
        assert api.get(f"/oauth/authorizations/{grandchild['id']}").status_code == 404
    for made in (grandparent, parent, grandchild):
        assert api_status(tls_server, made["access_token"]["token"]) == 401
    lineage = [grandparent["id"], parent["id"], grandchild["id"]]
    revoked = _revoked_at(tls_factory, lineage)
    assert set(revoked) == set(lineage)  # every row is still there
    assert None not in revoked.values()


def test_ending_a_session_revokes_what_was_made_through_it_and_keeps_the_session(
    tls_factory: Factory, tls_server: ServerProcess
) -> None:
    owner = tls_factory.account("session-kept")
    session_token = _session_token(tls_server, owner)
    with tls_server.client(session_token) as api:
        session_id = api.get("/oauth/sessions").json()[0]["id"]
    child = _child(tls_server, session_token, description="made in the session")
    with tls_server.client(session_token) as api:
        assert api.delete("/oauth/sessions/~").status_code == 200
    assert api_status(tls_server, session_token) == 401
    assert api_status(tls_server, child["access_token"]["token"]) == 401
    with tls_server.client(owner.api_key) as api:
        assert api.get("/oauth/sessions").json() == []  # an ended session is not listed
        assert api.delete(f"/oauth/sessions/{session_id}").status_code == 404
    with tls_factory.database.unit_of_work(write=False) as session:
        login = session.get(LoginSession, session_id)
        assert login is not None
        assert login.ended_at is not None
        through = list(
            session.scalars(select(Authorization.id).where(Authorization.session_id == session_id))
        )
    assert len(through) == 1
    revoked = _revoked_at(tls_factory, [*through, child["id"]])
    assert set(revoked) == {*through, child["id"]}
    assert None not in revoked.values()


def test_a_child_never_expires_later_than_its_parent(
    tls_server: ServerProcess, user: UserAccount
) -> None:
    parent = _child(tls_server, user.api_key, description="one hour", expires_in=3600)
    token = parent["access_token"]["token"]
    never = _child(tls_server, token, description="asks for never", expires_in=None)
    longer = _child(tls_server, token, description="asks for a year", expires_in=31536000)
    shorter = _child(tls_server, token, description="asks for a minute", expires_in=60)
    for child in (never, longer):
        assert 3500 <= child["access_token"]["expires_in"] <= 3600
    assert shorter["access_token"]["expires_in"] <= 60


def test_children_of_the_api_key_die_when_it_is_regenerated(
    tls_factory: Factory, tls_server: ServerProcess
) -> None:
    owner = tls_factory.account("regenerates")
    child = _child(tls_server, owner.api_key, description="made with the key", expires_in=None)
    grandchild = _child(tls_server, child["access_token"]["token"], description="and its child")
    with tls_server.client(owner.api_key) as api:
        fresh = api.post("/oauth/authorizations/~/actions/regenerate-tokens").json()
    new_key = fresh["access_token"]["token"]
    assert api_status(tls_server, child["access_token"]["token"]) == 401
    assert api_status(tls_server, grandchild["access_token"]["token"]) == 401
    assert api_status(tls_server, new_key) == 200


def test_children_of_a_password_login_die_when_its_session_ends(
    tls_factory: Factory, tls_server: ServerProcess
) -> None:
    owner = tls_factory.account("session")
    with tls_server.client() as api:
        login = api.post("/oauth/authorizations", auth=(owner.email, PASSWORD), json={})
    assert login.status_code == 201, login.text
    session_token = login.json()["access_token"]["token"]
    child = _child(tls_server, session_token, description="heroku authorizations:create")
    with tls_server.client(session_token) as api:
        assert api.delete("/oauth/sessions/~").status_code == 200
    assert api_status(tls_server, session_token) == 401
    assert api_status(tls_server, child["access_token"]["token"]) == 401


def test_client_names_only_the_callers_own_client(
    tls_server: ServerProcess, user: UserAccount, other_user: UserAccount
) -> None:
    theirs = register(tls_server, other_user.api_key)
    refused = _create(tls_server, user.api_key, client=theirs["id"], scope=["read"])
    assert refused.status_code == 404
    assert refused.json()["id"] == "not_found"
    mine = register(tls_server, user.api_key)
    assert _create(tls_server, user.api_key, client=mine["id"], scope=["read"]).status_code == 201


def test_an_authorization_made_for_a_client_through_the_api_implies_no_consent(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    mine = register(tls_server, user.api_key)
    made = _create(tls_server, user.api_key, client=mine["id"], scope=["read"])
    assert made.status_code == 201
    consent = browser.authorize(response_type="code", client_id=mine["id"], scope="read")
    if consent.status_code == 302 and "/login" in consent.headers["location"]:
        consent = browser.log_in(consent)
    # The consent page is shown: nothing was remembered on the user's behalf.
    assert consent.status_code == 200
    assert 'name="decision"' in consent.text


# Other paths that hand out a credential (an attacker review's findings), each tried and refused.


def _session_token(server: ServerProcess, user: UserAccount) -> str:
    with server.client() as api:
        login = api.post("/oauth/authorizations", auth=(user.email, PASSWORD), json={})
    assert login.status_code == 201, login.text
    token: str = login.json()["access_token"]["token"]
    return token


def _regenerate(server: ServerProcess, token: str, identity: str) -> httpx.Response:
    with server.client(token) as api:
        return api.post(f"/oauth/authorizations/{identity}/actions/regenerate-tokens")


def test_a_third_party_or_session_token_cannot_regenerate_the_api_key(
    tls_factory: Factory, tls_server: ServerProcess, browser: OAuthBrowser, user: UserAccount
) -> None:
    tokens = _third_party_token(tls_server, user, browser)
    assert _regenerate(tls_server, tokens["access_token"], "~").status_code == 403
    owner = tls_factory.account("regenerate-session")
    refused = _regenerate(tls_server, _session_token(tls_server, owner), "~")
    assert refused.status_code == 403
    assert refused.json()["id"] == "forbidden"
    assert api_status(tls_server, user.api_key) == 200  # neither key was replaced
    assert api_status(tls_server, owner.api_key) == 200


def test_a_child_regenerates_itself_and_its_own_children_only(
    tls_factory: Factory, tls_server: ServerProcess
) -> None:
    owner = tls_factory.account("regenerate-child")
    unrelated = _child(tls_server, owner.api_key, description="unrelated")
    child = _child(tls_server, owner.api_key, description="child")
    child_token = child["access_token"]["token"]
    grandchild = _child(tls_server, child_token, description="grandchild")
    assert _regenerate(tls_server, child_token, unrelated["id"]).status_code == 403
    assert api_status(tls_server, unrelated["access_token"]["token"]) == 200
    assert _regenerate(tls_server, child_token, grandchild["id"]).status_code == 200
    rotated = _regenerate(tls_server, child_token, child["id"])
    assert rotated.status_code == 200
    assert api_status(tls_server, rotated.json()["access_token"]["token"]) == 200
    # The API key may regenerate anything of its account.
    assert _regenerate(tls_server, owner.api_key, unrelated["id"]).status_code == 200


def test_machine_credentials_need_a_root_credential(
    tls_factory: Factory, tls_server: ServerProcess, browser: OAuthBrowser, user: UserAccount
) -> None:
    backdoor = {
        "name": "backdoor",
        "redirect_uri": "https://evil.example.com/cb",
        "client_credentials_scopes": ["global"],
    }
    tokens = _third_party_token(tls_server, user, browser)
    owner = tls_factory.account("machine")
    session_token = _session_token(tls_server, owner)
    for token in (tokens["access_token"], session_token):
        with tls_server.client(token) as api:
            refused = api.post("/oauth/clients", json=backdoor)
        assert refused.status_code == 403, refused.text
    with tls_server.client(session_token) as api:
        plain = api.post("/oauth/clients", json={**backdoor, "client_credentials_scopes": None})
        assert plain.status_code == 201  # a client without them is no credential
        widened = api.patch(
            f"/oauth/clients/{plain.json()['id']}", json={"client_credentials_scopes": ["read"]}
        )
        assert widened.status_code == 403
    with tls_server.client(owner.api_key) as api:
        made = api.post("/oauth/clients", json=backdoor)
        assert made.status_code == 201
    with tls_server.client(session_token) as api:
        rotated = api.post(f"/oauth/clients/{made.json()['id']}/actions/rotate-credentials")
    assert rotated.status_code == 403


def test_revoking_a_parents_access_token_revokes_its_children(
    tls_factory: Factory, tls_server: ServerProcess
) -> None:
    owner = tls_factory.account("token-revoke")
    parent = _child(tls_server, owner.api_key, description="parent")
    child = _child(tls_server, parent["access_token"]["token"], description="child")
    with tls_server.client(owner.api_key) as api:
        deleted = api.delete(f"/oauth/tokens/{parent['access_token']['id']}")
    assert deleted.status_code == 200, deleted.text
    assert api_status(tls_server, parent["access_token"]["token"]) == 401
    assert api_status(tls_server, child["access_token"]["token"]) == 401


def test_expires_in_with_digits_that_are_not_ascii_is_a_clear_error(
    tls_server: ServerProcess, user: UserAccount
) -> None:
    for value in ("²", "٣", "1e3"):
        refused = _create(tls_server, user.api_key, expires_in=value)
        assert refused.status_code == 422, (value, refused.text)
        assert refused.json()["id"] == "invalid_params"


def test_a_first_party_cli_login_cannot_mint_a_token_that_never_expires(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    cli_client = {"id": CLI_CLIENT_ID}
    started = device_start(tls_server, cli_client, scope="global")
    assert device_approve(browser, started["user_code"]).status_code in (200, 303)
    tokens = device_poll(tls_server, cli_client, started["device_code"]).json()
    child = _child(tls_server, tokens["access_token"], description="forever?", expires_in=None)
    assert child["parent"] is not None
    assert 0 < child["access_token"]["expires_in"] <= 365 * 86400
