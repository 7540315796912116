"""The rules of authorizations, decided without storage: lifetimes, who may create, regenerate and
make machine credentials (docs/architecture.md, "Tokens").
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from ostiary.clock import utcnow
from ostiary.errors import InvalidParams
from ostiary.security.tokens import TokenKind
from ostiary.tokens.errors import CredentialNotAllowed
from ostiary.tokens.models import (
    Authorization,
    AuthorizationKind,
)

MAX_EXPIRES_IN = 10 * 365 * 24 * 3600


# A child of an OAuth grant (the ostiary CLI's login) lives at most this long, whatever it asks:
# a grant has no expiry of its own, and its short access token must not buy a permanent one.
OAUTH_CHILD_LIFETIME = 365 * 24 * 3600


def parse_expires_in(value: object) -> int | None:
    """Seconds to live: an integer, a numeric string (as the heroku CLI sends), or null (never)."""
    if value is None:
        return None
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,12}", value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParams("expires_in", "expires_in must be a number of seconds, or null.")
    if not 1 <= value <= MAX_EXPIRES_IN:
        raise InvalidParams("expires_in", f"expires_in must be 1 to {MAX_EXPIRES_IN} seconds.")
    return value


def access_expiry(authorization: Authorization, oauth_ttl: int) -> datetime | None:
    """When a new access token of this authorization expires: OAuth tokens are short-lived."""
    if authorization.kind != AuthorizationKind.OAUTH:
        return authorization.expires_at
    short = utcnow() + timedelta(seconds=oauth_ttl)
    return min(short, authorization.expires_at) if authorization.expires_at else short


def check_may_create_authorizations(parent: Authorization) -> None:
    """Who may create authorizations with a token (docs/architecture.md, "Tokens").

    A person's own credentials may: the API key, personal tokens, a login session's token, and
    the grant of a first-party client (the ``ostiary`` CLI, which ships with the server). A
    third-party application's OAuth token may not, nor may a client-credentials token: either
    would let an application mint a credential its user never saw being made.
    """
    if parent.kind == AuthorizationKind.CLIENT_CREDENTIALS:
        raise CredentialNotAllowed(
            "A client-credentials token acts for an application: it cannot create authorizations."
        )
    if parent.kind == AuthorizationKind.OAUTH and (
        parent.client is None or parent.client.owner_id is not None
    ):
        raise CredentialNotAllowed(
            "An OAuth token of a third-party application cannot create authorizations; "
            "use your API key or a token of your own."
        )


def is_root_credential(authorization: Authorization) -> bool:
    """One of the account's standing credentials: the API key, or a personal token no other
    token made and no login session holds (made in the dashboard, or approved in a browser
    for the heroku CLI). Only these may act on credentials outside their own descendants."""
    return (
        authorization.kind in (AuthorizationKind.API_KEY, AuthorizationKind.PERSONAL)
        and authorization.parent_id is None
        and authorization.session_id is None
    )


def check_may_regenerate(caller: Authorization, *, target_made_by_caller: bool) -> None:
    """Regenerating hands the caller the target's new plaintext: a root credential may
    regenerate anything of the account; another token only itself and what it made
    (``target_made_by_caller``: the target is the caller or descends from it), so that no token
    obtains a credential that outlives it."""
    check_may_create_authorizations(caller)
    if is_root_credential(caller) or target_made_by_caller:
        return
    raise CredentialNotAllowed(
        "This token can regenerate only itself and the tokens made with it; use your API key "
        "(or the dashboard) to regenerate others."
    )


def check_may_make_machine_credentials(caller: Authorization) -> None:
    """A client with client-credentials scopes is a credential of its own that no user approves
    and nothing revokes with the token that made it: only a root credential may make one,
    widen one or rotate its secret (the dashboard asks for a recent password)."""
    if not is_root_credential(caller):
        raise CredentialNotAllowed(
            "Only your API key (or the dashboard) can give a client client-credentials scopes "
            "or rotate such a client's secret."
        )


def is_expired(authorization: Authorization, now: datetime | None = None) -> bool:
    """Whether the authorization's lifetime is over (it stays listed until deleted)."""
    return authorization.expires_at is not None and authorization.expires_at <= (now or utcnow())


TOKEN_KIND_BY_AUTHORIZATION = {
    AuthorizationKind.API_KEY: TokenKind.API_KEY,
    AuthorizationKind.PERSONAL: TokenKind.AUTHORIZATION,
    AuthorizationKind.OAUTH: TokenKind.OAUTH_ACCESS,
    AuthorizationKind.CLIENT_CREDENTIALS: TokenKind.OAUTH_ACCESS,
}
