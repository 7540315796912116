"""What the client raises: one class per Heroku error id that callers branch on.

Every API error carries the answer's ``id``, ``message``, HTTP ``status`` and ``request_id`` (the
first id of the ``Request-Id`` header, which the server's log also shows).
"""

from __future__ import annotations

import ssl

import httpx


class ClientError(Exception):
    """Base of everything this library raises."""


class InsecureURL(ClientError, ValueError):
    """An ``http://`` URL whose host is not this machine: tokens would cross the network in
    clear text."""


class ServerUnreachable(ClientError):
    """No answer: the server is down, the URL is wrong, or TLS verification failed."""


class UntrustedCertificate(ServerUnreachable):
    """The server's TLS certificate is not signed by a CA this client trusts (a self-signed
    certificate: pass its file as ``verify``)."""


def unreachable(base_url: str, error: httpx.TransportError) -> ServerUnreachable:
    """The error for a request that got no answer, telling an untrusted certificate apart."""
    cause: BaseException | None = error
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return UntrustedCertificate(
                f"The certificate of {base_url} is not trusted ({cause.verify_message})."
            )
        cause = cause.__cause__ or cause.__context__
    return ServerUnreachable(f"Cannot reach {base_url}: {error}")


class ApiError(ClientError):
    """An error answer of the Platform API (``{"id", "message"}``)."""

    def __init__(self, status: int, id: str, message: str, request_id: str | None) -> None:
        super().__init__(message)
        self.status = status
        self.id = id
        self.message = message
        self.request_id = request_id

    def __str__(self) -> str:
        suffix = f" (request {self.request_id})" if self.request_id else ""
        return f"{self.message}{suffix}"


class BadRequest(ApiError):
    """400: the request is malformed."""


class Unauthorized(ApiError):
    """401: no token, or an unknown, expired or revoked one."""


class Forbidden(ApiError):
    """403: the token may not do this (for example a missing scope)."""


class TwoFactorRequired(Forbidden):
    """403 ``two_factor``: send the second factor in ``Heroku-Two-Factor-Code`` and retry."""


class NotFound(ApiError):
    """404: no such resource, or not one the token may see."""


class Conflict(ApiError):
    """409: for example an app name that is taken."""


class InvalidParams(ApiError):
    """422: a field of the request body is missing or invalid."""


class RateLimited(ApiError):
    """429: the account's request budget is spent; ``retry_after`` says for how long."""

    def __init__(
        self, status: int, id: str, message: str, request_id: str | None, retry_after: float
    ) -> None:
        super().__init__(status, id, message, request_id)
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx: the server failed; the request id finds it in the server's log."""


_BY_ID: dict[str, type[ApiError]] = {
    "bad_request": BadRequest,
    "missing_version": BadRequest,
    "unauthorized": Unauthorized,
    "forbidden": Forbidden,
    "https_required": Forbidden,
    "two_factor": TwoFactorRequired,
    "not_found": NotFound,
    "conflict": Conflict,
    "invalid_params": InvalidParams,
}
_BY_STATUS: dict[int, type[ApiError]] = {
    400: BadRequest,
    401: Unauthorized,
    403: Forbidden,
    404: NotFound,
    409: Conflict,
    422: InvalidParams,
}


def retry_after(response: httpx.Response) -> float:
    """Seconds the server asked to wait (``Retry-After``), at least one."""
    try:
        return max(1.0, float(response.headers.get("retry-after", "1")))
    except ValueError:
        return 1.0


def api_error(response: httpx.Response) -> ApiError:
    """The exception for an error answer."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    status = response.status_code
    error_id = str(body.get("id") or "error")
    message = str(body.get("message") or response.reason_phrase or f"HTTP {status}")
    request_id = (response.headers.get("request-id") or "").split(",")[0] or None
    if status == 429:
        return RateLimited(status, error_id, message, request_id, retry_after(response))
    if status >= 500:
        return ServerError(status, error_id, message, request_id)
    cls = _BY_ID.get(error_id) or _BY_STATUS.get(status, ApiError)
    return cls(status, error_id, message, request_id)


class OAuthError(ClientError):
    """An OAuth 2.0 error answer (RFC 6749 section 5.2), or a failed authorization redirect
    (section 4.1.2.1), or a state that does not match (RFC 6749 section 10.12)."""

    def __init__(self, error: str, description: str | None = None) -> None:
        super().__init__(f"{error}: {description}" if description else error)
        self.error = error
        self.description = description
