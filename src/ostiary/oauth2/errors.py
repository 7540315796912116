"""OAuth error responses (RFC 6749 sections 4.1.2.1 and 5.2; RFC 6750 section 3).

An :class:`OAuthError` renders itself as the JSON body ``{"error", "error_description"}``; the
domain errors raised by services are translated here, in one place, for every OAuth endpoint.
"""

from __future__ import annotations

from typing import Any

from ostiary import errors


class OAuthError(Exception):
    """An error an OAuth endpoint answers with, by its RFC 6749 error code."""

    def __init__(
        self,
        error: str,
        description: str,
        *,
        status: int = 400,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(description)
        self.error = error
        self.description = description
        self.status = status
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The JSON error body (RFC 6749 section 5.2)."""
        return {"error": self.error, "error_description": self.description}


def invalid_request(description: str) -> OAuthError:
    """A malformed request: missing, repeated or invalid parameter."""
    return OAuthError("invalid_request", description)


def invalid_client(
    description: str = "Client authentication failed.", *, basic: bool = False
) -> OAuthError:
    """Client authentication failed; 401 with a challenge when the client used Basic."""
    headers = {"WWW-Authenticate": 'Basic realm="ostiary"'} if basic else {}
    return OAuthError("invalid_client", description, status=401, headers=headers)


def from_domain(error: errors.OstiaryError, *, basic: bool = False) -> OAuthError:
    """The OAuth error for a domain error raised while serving an OAuth endpoint."""
    if isinstance(error, errors.InvalidGrant):
        return OAuthError("invalid_grant", error.message)
    if isinstance(error, errors.Unauthorized):
        return invalid_client(error.message, basic=basic)
    if isinstance(error, errors.RateLimited):
        return OAuthError(
            "temporarily_unavailable",
            error.message,
            status=429,
            headers={"Retry-After": str(error.retry_after)},
        )
    if isinstance(error, errors.ServiceUnavailable):
        return OAuthError(
            "temporarily_unavailable",
            error.message,
            status=503,
            headers={"Retry-After": str(error.retry_after)},
        )
    if isinstance(error, errors.InvalidParams):
        return OAuthError(
            "invalid_scope" if error.field == "scope" else "invalid_request", error.message
        )
    if isinstance(error, errors.GrantNotAllowed):
        return OAuthError("unauthorized_client", error.message)
    if isinstance(error, errors.Forbidden):
        return OAuthError("invalid_scope", error.message)
    return OAuthError("invalid_request", error.message)
