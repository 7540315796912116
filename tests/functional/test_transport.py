"""HTTPS only, proxies trusted only when configured, and the `--insecure-http` guard."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import API_HEADERS, ServerProcess, run_cli, start_server, trusting

FROM_INTERNET = {"X-Forwarded-For": "203.0.113.9"}


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(tmp_path_factory.mktemp("tls"), tls=True)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def proxied_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Plain HTTP behind a proxy on 127.0.0.1, which is trusted."""
    server = start_server(
        tmp_path_factory.mktemp("proxied"), settings={"OSTIARY_TRUSTED_PROXIES": "127.0.0.1/32"}
    )
    yield server
    server.stop()


def test_tls_server_sends_hsts(tls_server: ServerProcess) -> None:
    response = httpx.get(f"{tls_server.url}/health", verify=trusting(tls_server.cert_path))
    assert response.status_code == 200
    assert response.headers["strict-transport-security"].startswith("max-age=")


def test_generated_certificate_names_localhost_and_loopback(tls_server: ServerProcess) -> None:
    from cryptography import x509

    cert = x509.load_pem_x509_certificate(tls_server.cert_path.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert {str(ip) for ip in names.get_values_for_type(x509.IPAddress)} >= {"127.0.0.1", "::1"}
    key_mode = (tls_server.data_dir / "tls" / "key.pem").stat().st_mode & 0o777
    assert key_mode == 0o600
    response = httpx.get(
        f"https://localhost:{tls_server.port}/health", verify=trusting(tls_server.cert_path)
    )
    assert response.status_code == 200


def test_plain_http_from_the_internet_through_a_trusted_proxy_is_refused(
    proxied_server: ServerProcess,
) -> None:
    response = httpx.get(
        f"{proxied_server.url}/health", headers={**FROM_INTERNET, "X-Forwarded-Proto": "http"}
    )
    assert response.status_code == 403
    assert response.json()["id"] == "https_required"
    assert response.headers["request-id"]


def test_https_terminated_at_a_trusted_proxy_is_served_with_hsts(
    proxied_server: ServerProcess,
) -> None:
    response = httpx.get(
        f"{proxied_server.url}/health", headers={**FROM_INTERNET, "X-Forwarded-Proto": "https"}
    )
    assert response.status_code == 200
    assert "strict-transport-security" in response.headers


def test_forwarded_headers_from_an_untrusted_peer_are_ignored(server: ServerProcess) -> None:
    # The session server trusts no proxy: a loopback client cannot claim HTTPS or another address.
    claims_https = httpx.get(f"{server.url}/health", headers={"X-Forwarded-Proto": "https"})
    assert claims_https.status_code == 200
    assert "strict-transport-security" not in claims_https.headers
    claims_remote = httpx.get(
        f"{server.url}/health", headers={**FROM_INTERNET, "X-Forwarded-Proto": "http"}
    )
    assert claims_remote.status_code == 200


def test_insecure_http_is_refused_off_loopback(tmp_path: Path) -> None:
    from tests.support.server import ostiary_env

    result = run_cli("serve", "--host", "0.0.0.0", "--insecure-http", env=ostiary_env(tmp_path))  # noqa: S104
    assert result.returncode == 2
    assert "loopback" in result.stderr


def test_insecure_http_on_loopback_warns(server: ServerProcess) -> None:
    assert "WARNING: serving plain HTTP" in server.log()


def test_api_over_tls_with_the_generated_certificate(tls_server: ServerProcess) -> None:
    from tests.support.factories import Factory

    factory = Factory(tls_server.data_dir)
    account = factory.account()
    factory.close()
    response = httpx.get(
        f"{tls_server.url}/account",
        headers={**API_HEADERS, "Authorization": f"Bearer {account.api_key}"},
        verify=trusting(tls_server.cert_path),
    )
    assert response.status_code == 200
    assert response.json()["email"] == account.email
