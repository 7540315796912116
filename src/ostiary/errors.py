"""The domain error tree. Services raise these; ``web.errors`` maps each to HTTP in one place.

::

    OstiaryError                    (code)
    ├── BadRequest                  bad_request
    │   ├── MissingVersion          missing_version
    │   ├── UntrustedHost           bad_request      (a Host header not configured or loopback)
    │   └── InvalidGrant            invalid_grant    (a bad code or refresh token)
    │       └── GrantReuse          invalid_grant    (keeps its revocation)
    ├── Unauthorized                unauthorized
    ├── Forbidden                   forbidden
    │   ├── ScopeRequired           forbidden        (names the scopes that would allow it)
    │   ├── GrantNotAllowed         forbidden        (OAuth: unauthorized_client)
    │   └── HttpsRequired           https_required
    ├── NotFound                    not_found        (names the resource)
    ├── NotAcceptable               not_acceptable
    ├── Conflict                    conflict
    ├── PayloadTooLarge             request_entity_too_large
    ├── InvalidParams               invalid_params   (names the field)
    ├── RateLimited                 rate_limit       (carries Retry-After)
    │   ├── PasswordChecksBusy      rate_limit       (the password pool's queue is full)
    │   └── TooManyRequests         rate_limit       (an address's login requests)
    └── ServiceUnavailable          service_unavailable  (the database is unreachable; Retry-After)

``code`` is the machine id Heroku's clients branch on; ``message`` is for people; ``audit``, when
set, is a security event recorded although the failed request's transaction rolls back.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Audit:
    """A security event to record even though the request fails and its transaction rolls back.

    Domain errors carry one (``OstiaryError.audit``); the HTTP error handler writes it in a
    transaction of its own (``events.record_audit``).
    """

    action: str
    actor_id: str | None = None
    target_type: str | None = None
    target_id: str | None = None
    details: dict[str, object] = field(default_factory=dict)


class OstiaryError(Exception):
    """Base of every error a service raises on purpose."""

    code = "internal_server_error"
    # True when the changes made before the error must be committed anyway (for example the
    # revocation that answers a replayed code); the unit of work commits, then re-raises.
    keeps_changes = False

    def __init__(self, message: str, *, audit: Audit | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.audit = audit


class BadRequest(OstiaryError):
    """The request is malformed (for example an unparsable Range header)."""

    code = "bad_request"


class MissingVersion(BadRequest):
    """The Accept header names no API version."""

    code = "missing_version"


class UntrustedHost(BadRequest):
    """The Host header names neither a configured host nor this machine (``OSTIARY_ALLOWED_HOSTS``).

    Refused before routing, so no URL (the issuer, a device flow's ``verification_uri``) is ever
    built from a host name a client made up.
    """

    def __init__(self, host: str) -> None:
        shown = host if len(host) <= 100 else host[:100] + "..."
        super().__init__(
            f"The Host header {shown!r} is not one of this server's names "
            "(OSTIARY_ALLOWED_HOSTS, OSTIARY_ISSUER or a loopback name)."
        )


class InvalidGrant(BadRequest):
    """A code or refresh token that is unknown, expired, used, or not the client's."""

    code = "invalid_grant"


class GrantReuse(InvalidGrant):
    """A used code or a rotated refresh token came back: its tokens were revoked."""

    keeps_changes = True


class Unauthorized(OstiaryError):
    """No credentials, or credentials that are unknown, expired or revoked."""

    code = "unauthorized"


class Forbidden(OstiaryError):
    """Authenticated, but not allowed to do this."""

    code = "forbidden"


class ScopeRequired(Forbidden):
    """The token's scopes do not cover this route."""

    def __init__(self, allowed: frozenset[str]) -> None:
        names = ", ".join(sorted(allowed))
        super().__init__(f"This action requires a token with one of these scopes: {names}.")
        self.allowed = allowed


class GrantNotAllowed(Forbidden):
    """The client may not use this grant type (OAuth's ``unauthorized_client``)."""


class HttpsRequired(Forbidden):
    """Plain HTTP from a peer that is neither loopback nor a trusted proxy."""

    code = "https_required"


class NotFound(OstiaryError):
    """The resource does not exist or is not visible to the caller."""

    code = "not_found"

    def __init__(self, resource: str, message: str | None = None) -> None:
        super().__init__(message or f"Couldn't find that {resource}.")
        self.resource = resource


class NotAcceptable(OstiaryError):
    """The client asked for an API version this server does not speak."""

    code = "not_acceptable"


class Conflict(OstiaryError):
    """The request conflicts with existing state (for example a taken name)."""

    code = "conflict"


class PayloadTooLarge(OstiaryError):
    """The request body is larger than ``OSTIARY_MAX_BODY_SIZE`` (RFC 9110 section 15.5.14)."""

    code = "request_entity_too_large"

    def __init__(self, limit: int) -> None:
        super().__init__(f"The request body is larger than this server accepts ({limit} bytes).")
        self.limit = limit


class InvalidParams(OstiaryError):
    """A field of the request body is missing or invalid."""

    code = "invalid_params"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field


class RateLimited(OstiaryError):
    """The account's request budget is spent."""

    code = "rate_limit"

    def __init__(self, retry_after: int) -> None:
        super().__init__("Your account reached the API rate limit. Please wait a few minutes.")
        self.retry_after = retry_after


class PasswordChecksBusy(RateLimited):
    """Too many password checks are running or waiting in this server process."""

    def __init__(self) -> None:
        super().__init__(1)
        self.message = "Too many sign-in attempts are being checked right now. Try again shortly."
        self.args = (self.message,)


class ServiceUnavailable(OstiaryError):
    """A backing service (the database, or the shared state in Redis) cannot be reached; the
    client should retry later."""

    code = "service_unavailable"

    def __init__(self, retry_after: int = 5, *, unreachable: str = "its database") -> None:
        super().__init__(
            f"The service is temporarily unavailable ({unreachable} cannot be reached). "
            "Please retry shortly."
        )
        self.retry_after = retry_after


class TooManyRequests(RateLimited):
    """An address's budget for unauthenticated requests that create rows is spent."""

    def __init__(self, retry_after: int) -> None:
        super().__init__(retry_after)
        self.message = (
            f"Too many login requests from this address. Try again in {retry_after} seconds."
        )
        self.args = (self.message,)
