"""RFC 8414 (metadata) and RFC 9207 (iss): rules R25 and R26 of docs/oauth-server-rules.md."""

from __future__ import annotations

import httpx

from tests.support.server import ServerProcess, trusting


def test_r25_metadata_lists_exactly_what_is_supported(tls_server: ServerProcess) -> None:
    response = httpx.get(
        f"https://localhost:{tls_server.port}/.well-known/oauth-authorization-server",
        verify=trusting(tls_server.cert_path),
    )
    assert response.status_code == 200
    document = response.json()
    issuer = f"https://localhost:{tls_server.port}"
    assert document["issuer"] == issuer
    assert document["token_endpoint"] == f"{issuer}/oauth/token"
    assert document["authorization_endpoint"] == f"{issuer}/oauth/authorize"
    assert document["response_types_supported"] == ["code"]
    assert set(document["grant_types_supported"]) == {
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "urn:ietf:params:oauth:grant-type:device_code",
    }
    assert document["device_authorization_endpoint"] == f"{issuer}/oauth/device/code"
    assert "password" not in document["grant_types_supported"]
    assert "implicit" not in document["grant_types_supported"]
    assert set(document["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
        "none",
    }
    assert response.headers["access-control-allow-origin"] == "*"


def test_r26_iss_parameter_is_advertised(tls_server: ServerProcess) -> None:
    document = httpx.get(
        f"https://localhost:{tls_server.port}/.well-known/oauth-authorization-server",
        verify=trusting(tls_server.cert_path),
    ).json()
    assert document["authorization_response_iss_parameter_supported"] is True
