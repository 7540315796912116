"""Validating an authorization request (RFC 6749 section 4.1.1; RFC 7636; RFC 9207).

Two kinds of failure, in this order (section 4.1.2.1):

1. :class:`FatalAuthorizationError`: the client is unknown or the redirect URI does not match a
   registered one. The user sees an error page; nothing redirects (rules R2, R3).
2. :class:`RedirectedError`: anything else. The user agent goes back to the (verified) redirect
   URI with ``error``, ``state`` and ``iss``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from ostiary.errors import InvalidParams
from ostiary.oauth2 import rfc7636
from ostiary.oauth2.protocols import ClientDirectory, RegisteredClient
from ostiary.oauth2.redirect_uris import match_redirect_uri

PROMPTS = ("none", "login", "consent")


class FatalAuthorizationError(Exception):
    """A request that must not redirect: shown to the user as an error page."""


@dataclass(frozen=True, slots=True)
class AuthorizationRequest:
    """A validated authorization request."""

    client: RegisteredClient
    redirect_uri: str
    redirect_uri_given: bool
    scopes: list[str]
    state: str | None
    code_challenge: str | None
    prompt: str | None


def add_query(uri: str, params: dict[str, str | None]) -> str:
    """The URI with parameters added to its query (RFC 6749 section 4.1.2)."""
    parts = urlsplit(uri)
    extra = urlencode({k: v for k, v in params.items() if v is not None})
    query = f"{parts.query}&{extra}" if parts.query else extra
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


class RedirectedError(Exception):
    """An error delivered to the client at its redirect URI."""

    def __init__(self, redirect_uri: str, error: str, description: str, state: str | None) -> None:
        super().__init__(description)
        self.redirect_uri = redirect_uri
        self.error = error
        self.description = description
        self.state = state

    def location(self, issuer: str) -> str:
        """Where to send the user agent."""
        return add_query(
            self.redirect_uri,
            {
                "error": self.error,
                "error_description": self.description,
                "state": self.state,
                "iss": issuer,
            },
        )


def validate(
    clients: ClientDirectory,
    params: dict[str, str],
    parse_scope: Callable[[str], list[str]],
) -> AuthorizationRequest:
    """The request, checked in the order that decides whether an error may redirect."""
    client_id = params.get("client_id")
    client = clients.find_registered(client_id) if client_id else None
    if client is None:
        raise FatalAuthorizationError("The application asking for access is not registered here.")
    requested_uri = params.get("redirect_uri")
    redirect_uri = match_redirect_uri(client.redirect_uris, requested_uri)
    if redirect_uri is None:
        raise FatalAuthorizationError(
            "The redirect URI does not match any registered for this application."
        )
    state = params.get("state")

    def fail(error: str, description: str) -> RedirectedError:
        return RedirectedError(redirect_uri, error, description, state)

    if params.get("response_type") != "code":
        raise fail("unsupported_response_type", "Only response_type=code is supported.")
    challenge = params.get("code_challenge")
    method = params.get("code_challenge_method")
    if challenge is not None:
        if method != "S256":
            raise fail("invalid_request", "code_challenge_method must be S256.")
        if not rfc7636.is_valid_challenge(challenge):
            raise fail("invalid_request", "code_challenge is not a valid S256 challenge.")
    elif method is not None:
        raise fail("invalid_request", "code_challenge_method without code_challenge.")
    if client.is_public and challenge is None:
        raise fail("invalid_request", "A public client must use PKCE (code_challenge, S256).")
    try:
        scopes = parse_scope(params.get("scope", "global"))
    except InvalidParams as error:
        raise fail("invalid_scope", error.message) from error
    prompt = params.get("prompt")
    if prompt is not None and prompt not in PROMPTS:
        raise fail("invalid_request", f"prompt must be one of {', '.join(PROMPTS)}.")
    return AuthorizationRequest(
        client=client,
        redirect_uri=redirect_uri,
        redirect_uri_given=requested_uri is not None,
        scopes=scopes,
        state=state,
        code_challenge=challenge,
        prompt=prompt,
    )
