"""RFC 7009 (revocation): rule R37 of docs/oauth-server-rules.md."""

from __future__ import annotations

from typing import Any

from tests.support.factories import UserAccount
from tests.support.oauth_flow import OAuthBrowser, api_status, register, token_request
from tests.support.server import ServerProcess


def _tokens(
    server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> tuple[dict[str, Any], dict[str, Any]]:
    client = register(server, user.api_key)
    code = browser.code_for(response_type="code", client_id=client["id"], scope="read")["code"]
    tokens = token_request(
        server,
        {"grant_type": "authorization_code", "code": code},
        auth=(client["id"], client["secret"]),
    ).json()
    return client, tokens


def _revoke(server: ServerProcess, data: dict[str, str], auth: tuple[str, str] | None) -> int:
    import httpx

    from tests.support.server import trusting

    return httpx.post(
        f"https://localhost:{server.port}/oauth/revoke",
        data=data,
        auth=auth,
        verify=trusting(server.cert_path),
    ).status_code


def test_r37_revoking_a_refresh_token_revokes_its_access_tokens(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client, tokens = _tokens(tls_server, user, browser)
    assert (
        _revoke(
            tls_server,
            {"token": tokens["refresh_token"], "token_type_hint": "refresh_token"},
            (client["id"], client["secret"]),
        )
        == 200
    )
    assert api_status(tls_server, tokens["access_token"], "/apps") == 401


def test_r37_revoking_an_access_token(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client, tokens = _tokens(tls_server, user, browser)
    assert (
        _revoke(tls_server, {"token": tokens["access_token"]}, (client["id"], client["secret"]))
        == 200
    )
    assert api_status(tls_server, tokens["access_token"], "/apps") == 401


def test_r37_unknown_tokens_get_200(tls_server: ServerProcess, user: UserAccount) -> None:
    client = register(tls_server, user.api_key)
    assert (
        _revoke(tls_server, {"token": "osto_not_a_real_token"}, (client["id"], client["secret"]))
        == 200
    )


def test_r37_confidential_clients_must_authenticate(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client, tokens = _tokens(tls_server, user, browser)
    assert _revoke(tls_server, {"token": tokens["access_token"]}, None) == 401
    assert (
        _revoke(tls_server, {"token": tokens["access_token"]}, (client["id"], "ostc_wrong")) == 401
    )
    assert api_status(tls_server, tokens["access_token"], "/apps") == 200


def test_r37_another_client_cannot_revoke(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    _, tokens = _tokens(tls_server, user, browser)
    other = register(tls_server, user.api_key)
    assert (
        _revoke(tls_server, {"token": tokens["access_token"]}, (other["id"], other["secret"]))
        == 400
    )
    assert api_status(tls_server, tokens["access_token"], "/apps") == 200
