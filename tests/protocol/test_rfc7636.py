"""RFC 7636 (PKCE): rules R5-R8 and R13 of docs/oauth-server-rules.md, each attack tried and
refused."""

from __future__ import annotations

from typing import Any

from tests.support.factories import UserAccount
from tests.support.oauth_flow import OAuthBrowser, pkce_pair, query_of, register, token_request
from tests.support.server import ServerProcess


def _public(server: ServerProcess, user: UserAccount) -> dict[str, Any]:
    return register(server, user.api_key, client_type="public")


def test_r5_metadata_publishes_s256(tls_server: ServerProcess) -> None:
    import httpx

    from tests.support.server import trusting

    document = httpx.get(
        f"https://localhost:{tls_server.port}/.well-known/oauth-authorization-server",
        verify=trusting(tls_server.cert_path),
    ).json()
    assert document["code_challenge_methods_supported"] == ["S256"]


def test_r6_public_client_without_pkce_is_refused(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = _public(tls_server, user)
    response = browser.authorize(response_type="code", client_id=client["id"], state="p")
    assert response.status_code == 302
    answer = query_of(response.headers["location"])
    assert answer["error"] == "invalid_request"
    assert answer["state"] == "p"


def test_r6_public_client_with_pkce_succeeds(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = _public(tls_server, user)
    verifier, challenge = pkce_pair()
    code = browser.code_for(
        response_type="code",
        client_id=client["id"],
        code_challenge=challenge,
        code_challenge_method="S256",
    )["code"]
    response = token_request(
        tls_server,
        {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client["id"],
            "code_verifier": verifier,
        },
    )
    assert response.status_code == 200
    assert "refresh_token" in response.json()


def test_r6_confidential_clients_may_use_pkce(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key)
    verifier, challenge = pkce_pair()
    code = browser.code_for(
        response_type="code",
        client_id=client["id"],
        code_challenge=challenge,
        code_challenge_method="S256",
    )["code"]
    response = token_request(
        tls_server,
        {"grant_type": "authorization_code", "code": code, "code_verifier": verifier},
        auth=(client["id"], client["secret"]),
    )
    assert response.status_code == 200


def test_r7_plain_method_is_refused(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = _public(tls_server, user)
    verifier, _ = pkce_pair()
    response = browser.authorize(
        response_type="code",
        client_id=client["id"],
        code_challenge=verifier[:43],
        code_challenge_method="plain",
    )
    assert query_of(response.headers["location"])["error"] == "invalid_request"
    missing_method = browser.authorize(
        response_type="code", client_id=client["id"], code_challenge=pkce_pair()[1]
    )
    assert query_of(missing_method.headers["location"])["error"] == "invalid_request"


def test_r8_wrong_verifier_is_refused(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = _public(tls_server, user)
    _, challenge = pkce_pair()
    other_verifier, _ = pkce_pair()
    code = browser.code_for(
        response_type="code",
        client_id=client["id"],
        code_challenge=challenge,
        code_challenge_method="S256",
    )["code"]
    response = token_request(
        tls_server,
        {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client["id"],
            "code_verifier": other_verifier,
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_r8_pkce_downgrade_refused(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key)
    code = browser.code_for(response_type="code", client_id=client["id"])["code"]  # no challenge
    verifier, _ = pkce_pair()
    response = token_request(
        tls_server,
        {"grant_type": "authorization_code", "code": code, "code_verifier": verifier},
        auth=(client["id"], client["secret"]),
    )
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_grant"


def test_r8_verifier_format_is_checked(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = _public(tls_server, user)
    short = "a" * 42
    from ostiary.oauth2.rfc7636 import s256

    code = browser.code_for(
        response_type="code",
        client_id=client["id"],
        code_challenge=s256(short),
        code_challenge_method="S256",
    )["code"]
    response = token_request(
        tls_server,
        {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client["id"],
            "code_verifier": short,
        },
    )
    assert response.status_code == 400


def test_r13_challenge_is_never_echoed(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = _public(tls_server, user)
    verifier, challenge = pkce_pair()
    consent_or_login = browser.authorize(
        response_type="code",
        client_id=client["id"],
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    consent = browser.log_in(consent_or_login)
    decided = browser.decide(consent, "allow")
    assert challenge not in decided.headers["location"]
    code = query_of(decided.headers["location"])["code"]
    response = token_request(
        tls_server,
        {
            "grant_type": "authorization_code",
            "code": code,
            "client_id": client["id"],
            "code_verifier": verifier,
        },
    )
    assert challenge not in response.text
