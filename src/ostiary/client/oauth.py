"""OAuth 2.0 for apps that act for Ostiary users: the authorization code grant with PKCE and
state (RFC 6749 section 4.1, RFC 7636), refresh (section 6), the device grant (RFC 8628) and
revocation (RFC 7009), against the server's ``/oauth/*`` endpoints."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Self
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx

from ostiary.client.errors import ClientError, OAuthError, unreachable
from ostiary.client.token_storage import TokenStore
from ostiary.client.urls import checked_base_url, tls_verification

DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"


@dataclass(frozen=True, slots=True)
class OAuthTokens:
    """A token response (RFC 6749 section 5.1), with the expiry as a moment."""

    access_token: str
    refresh_token: str | None
    expires_at: datetime | None
    scope: list[str]

    @classmethod
    def from_response(cls, body: dict[str, Any], now: datetime | None = None) -> Self:
        """From the token endpoint's JSON."""
        now = now or datetime.now(UTC)
        expires_in = body.get("expires_in")
        return cls(
            access_token=body["access_token"],
            refresh_token=body.get("refresh_token"),
            expires_at=now + timedelta(seconds=int(expires_in)) if expires_in else None,
            scope=str(body.get("scope") or "").split(),
        )

    def expires_within(self, seconds: float) -> bool:
        """Whether the access token expires in less than ``seconds``."""
        if self.expires_at is None:
            return False
        return self.expires_at - datetime.now(UTC) < timedelta(seconds=seconds)

    def to_json(self) -> dict[str, Any]:
        """For a token store."""
        return {
            "access_token": self.access_token,
            "refresh_token": self.refresh_token,
            "expires_at": self.expires_at.isoformat() if self.expires_at else None,
            "scope": self.scope,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Self:
        """From :meth:`to_json`'s output."""
        expires = data.get("expires_at")
        return cls(
            access_token=data["access_token"],
            refresh_token=data.get("refresh_token"),
            expires_at=datetime.fromisoformat(expires) if expires else None,
            scope=list(data.get("scope") or []),
        )


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """Where to send the user, and what to keep until they come back (in the user's session,
    never in the URL): the state and the PKCE verifier."""

    url: str
    state: str
    code_verifier: str
    redirect_uri: str


@dataclass(frozen=True, slots=True)
class DeviceAuthorization:
    """RFC 8628 section 3.2: what to show the user, and what to poll with."""

    device_code: str
    user_code: str
    verification_uri: str
    verification_uri_complete: str | None
    expires_in: int
    interval: int


class OAuthApp:
    """A registered client of an Ostiary server.

    A confidential client authenticates with HTTP Basic (``client_secret_basic``); a public one
    (a CLI, a native app) sends only its ``client_id`` and relies on PKCE.
    """

    def __init__(
        self,
        base_url: str,
        client_id: str,
        client_secret: str | None = None,
        redirect_uri: str | None = None,
        *,
        verify: bool | str = True,
        timeout: float = 30.0,
    ) -> None:
        self.base_url = checked_base_url(base_url)
        self.client_id = client_id
        self.client_secret = client_secret
        self.redirect_uri = redirect_uri
        self._http = httpx.Client(
            base_url=self.base_url, verify=tls_verification(verify), timeout=timeout
        )

    def authorization_request(self, scope: Sequence[str]) -> AuthorizationRequest:
        """A fresh authorization URL with state and an S256 code challenge (RFC 7636 4.2)."""
        if self.redirect_uri is None:
            raise ValueError("The authorization code grant needs a redirect_uri.")
        state = secrets.token_urlsafe(24)
        verifier = secrets.token_urlsafe(48)
        challenge = (
            base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
            .rstrip(b"=")
            .decode()
        )
        query = urlencode(
            {
                "response_type": "code",
                "client_id": self.client_id,
                "redirect_uri": self.redirect_uri,
                "scope": " ".join(scope),
                "state": state,
                "code_challenge": challenge,
                "code_challenge_method": "S256",
            }
        )
        return AuthorizationRequest(
            f"{self.base_url}/oauth/authorize?{query}", state, verifier, self.redirect_uri
        )

    def exchange(self, request: AuthorizationRequest, callback_url: str) -> OAuthTokens:
        """Tokens for the code in ``callback_url``, after checking its state against the one
        ``request`` started with (RFC 6749 section 10.12) and surfacing a refusal."""
        query = parse_qs(urlsplit(callback_url).query)
        state = query.get("state", [""])[0]
        if not hmac.compare_digest(state.encode(), request.state.encode()):
            raise OAuthError("invalid_state", "The state does not match this sign-in attempt.")
        if "error" in query:
            raise OAuthError(query["error"][0], query.get("error_description", [None])[0])
        code = query.get("code", [""])[0]
        if not code:
            raise OAuthError("invalid_request", "The redirect carries no code.")
        return self._token(
            {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": request.redirect_uri,
                "code_verifier": request.code_verifier,
            }
        )

    def refresh(self, tokens: OAuthTokens) -> OAuthTokens:
        """New tokens for a refresh token; the old refresh token is spent (rotation)."""
        if tokens.refresh_token is None:
            raise OAuthError("invalid_grant", "These tokens have no refresh token.")
        return self._token({"grant_type": "refresh_token", "refresh_token": tokens.refresh_token})

    def start_device_authorization(self, scope: Sequence[str]) -> DeviceAuthorization:
        """Begin the device flow (RFC 8628 section 3.1)."""
        body = self._post("/oauth/device/code", {"scope": " ".join(scope)})
        return DeviceAuthorization(
            device_code=body["device_code"],
            user_code=body["user_code"],
            verification_uri=body["verification_uri"],
            verification_uri_complete=body.get("verification_uri_complete"),
            expires_in=int(body["expires_in"]),
            interval=int(body.get("interval", 5)),
        )

    def poll_device(
        self, device: DeviceAuthorization, *, sleep: Callable[[float], None] = time.sleep
    ) -> OAuthTokens:
        """Poll until the user approves (tokens) or denies, or the code expires (OAuthError).
        ``slow_down`` adds 5 seconds to the interval, as RFC 8628 section 3.5 says."""
        interval = device.interval
        deadline = time.monotonic() + device.expires_in
        while time.monotonic() < deadline:
            sleep(interval)
            try:
                return self._token({"grant_type": DEVICE_GRANT, "device_code": device.device_code})
            except OAuthError as error:
                if error.error == "slow_down":
                    interval += 5
                elif error.error != "authorization_pending":
                    raise
        raise OAuthError("expired_token", "The code expired before it was approved.")

    def revoke(self, token: str, token_type_hint: str | None = None) -> None:
        """Revoke a token (RFC 7009); revoking a refresh token ends its whole authorization."""
        form = {"token": token}
        if token_type_hint:
            form["token_type_hint"] = token_type_hint
        self._post("/oauth/revoke", form, expect_json=False)

    def _token(self, form: dict[str, str]) -> OAuthTokens:
        return OAuthTokens.from_response(self._post("/oauth/token", form))

    def _post(self, path: str, form: dict[str, str], *, expect_json: bool = True) -> Any:
        try:
            if self.client_secret is not None:  # client_secret_basic
                secret = (self.client_id, self.client_secret)
                response = self._http.post(path, data=form, auth=secret)
            else:  # a public client identifies itself in the form
                response = self._http.post(path, data={**form, "client_id": self.client_id})
        except httpx.TransportError as error:
            raise unreachable(self.base_url, error) from error
        if response.is_error:
            try:
                body = response.json()
            except ValueError:
                body = {}
            raise OAuthError(
                str(body.get("error") or f"http_{response.status_code}"),
                body.get("error_description"),
            )
        return response.json() if expect_json else None

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


class RefreshingAuth(httpx.Auth):
    """Bearer authentication from a token store, refreshed ``leeway`` seconds before the access
    token expires; the rotated tokens are saved back to the store."""

    def __init__(self, app: OAuthApp, store: TokenStore, leeway: float = 60.0) -> None:
        self.app = app
        self.store = store
        self.leeway = leeway

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Attach a live access token."""
        tokens = self.store.load()
        if tokens is None:
            raise ClientError("No tokens in the store: sign in first.")
        if tokens.expires_within(self.leeway) and tokens.refresh_token:
            tokens = self.app.refresh(tokens)
            self.store.save(tokens)
        request.headers["Authorization"] = f"Bearer {tokens.access_token}"
        yield request
