"""Authorizations made with a token are that token's children (issue 10, item 1).

Each test tries the escape a stolen or soon-revoked token would attempt, minting a token that
outlives it, and sees it refused or undone.
"""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.oauth_flow import OAuthBrowser, api_status, register, token_request
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
