"""Driving the authorization endpoint as a browser would (cookies, forms, redirects), over HTTPS,
without a browser: for protocol tests. The Chromium tests use the same pages for real."""

from __future__ import annotations

import base64
import hashlib
import re
import secrets
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from tests.support.factories import PASSWORD
from tests.support.server import API_HEADERS, ServerProcess, trusting

CALLBACK = "https://app.example.com/callback"


def pkce_pair() -> tuple[str, str]:
    """A fresh (verifier, S256 challenge)."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def hidden_fields(html: str) -> dict[str, str]:
    """The hidden inputs of a page's form."""
    pairs = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', html)
    return {name: unescape(value) for name, value in pairs}


def query_of(location: str) -> dict[str, str]:
    """The query parameters of a redirect."""
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


@dataclass
class OAuthBrowser:
    """A cookie-keeping HTTPS client that logs in and answers consent pages."""

    server: ServerProcess
    email: str
    password: str = PASSWORD
    client: httpx.Client = field(init=False)

    def __post_init__(self) -> None:
        self.client = httpx.Client(
            base_url=f"https://localhost:{self.server.port}",
            verify=trusting(self.server.cert_path),
            follow_redirects=False,
            timeout=30,
        )

    def close(self) -> None:
        """Forget the cookies."""
        self.client.close()

    def authorize(self, **params: str) -> httpx.Response:
        """GET /oauth/authorize with these parameters."""
        return self.client.get("/oauth/authorize?" + urlencode(params))

    def log_in(self, response: httpx.Response) -> httpx.Response:
        """Follow a redirect to the login page, submit it, and follow back."""
        assert response.status_code == 302, response.text
        login_page = self.client.get(response.headers["location"])
        fields = hidden_fields(login_page.text)
        submitted = self.client.post(
            "/login", data={**fields, "email": self.email, "password": self.password}
        )
        assert submitted.status_code == 303, submitted.text
        return self.client.get(submitted.headers["location"])

    def decide(self, consent: httpx.Response, decision: str) -> httpx.Response:
        """Press Allow or Deny on a consent page."""
        assert consent.status_code == 200, consent.text
        return self.client.post(
            "/oauth/authorize", data={**hidden_fields(consent.text), "decision": decision}
        )

    def code_for(self, **params: str) -> dict[str, str]:
        """Log in if needed, allow, and return the query the client receives."""
        response = self.authorize(**params)
        if response.status_code == 302 and "/login" in response.headers["location"]:
            response = self.log_in(response)
        if response.status_code == 200:
            response = self.decide(response, "allow")
        assert response.status_code in (302, 303), response.text
        return query_of(response.headers["location"])


def register(server: ServerProcess, api_key: str, **extra: Any) -> dict[str, Any]:
    """Register a client through the API; returns it with its secret."""
    with server.client(api_key) as api:
        response = api.post(
            "/oauth/clients", json={"name": "Example App", "redirect_uri": CALLBACK, **extra}
        )
    assert response.status_code == 201, response.text
    created: dict[str, Any] = response.json()
    return created


def token_request(
    server: ServerProcess, data: dict[str, str], auth: tuple[str, str] | None = None
) -> httpx.Response:
    """POST /oauth/token with a form body."""
    return httpx.post(
        f"https://localhost:{server.port}/oauth/token",
        data=data,
        auth=auth,
        verify=trusting(server.cert_path),
        timeout=30,
    )


def api_status(server: ServerProcess, token: str, path: str = "/account") -> int:
    """The status of an API request with a bearer token."""
    response = httpx.get(
        f"https://localhost:{server.port}{path}",
        headers={**API_HEADERS, "Authorization": f"Bearer {token}"},
        verify=trusting(server.cert_path),
        timeout=30,
    )
    return response.status_code


DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


def device_start(
    server: ServerProcess, client: dict[str, Any], scope: str = "read"
) -> dict[str, Any]:
    """Start a device authorization (RFC 8628 section 3.1) for a client."""
    response = httpx.post(
        f"https://localhost:{server.port}/oauth/device/code",
        data={"client_id": client["id"], "scope": scope},
        verify=trusting(server.cert_path),
    )
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def device_poll(server: ServerProcess, client: dict[str, Any], device_code: str) -> httpx.Response:
    """Poll the token endpoint with a device code (RFC 8628 section 3.4)."""
    return token_request(
        server, {"grant_type": DEVICE_GRANT, "device_code": device_code, "client_id": client["id"]}
    )


def device_approve(
    browser: OAuthBrowser, user_code: str, decision: str = "allow"
) -> httpx.Response:
    """Enter a user code on the /device page, signing in first, and allow or deny it."""
    entry = browser.client.get("/device", params={"user_code": user_code})
    if entry.status_code == 302:
        entry = browser.log_in(entry)
    shown = browser.client.post(
        "/device", data={**hidden_fields(entry.text), "user_code": user_code}
    )
    assert shown.status_code == 200, shown.text
    return browser.client.post("/device", data={**hidden_fields(shown.text), "decision": decision})
