"""The lifecycle of authorizations: create (with scope checks), list, describe, regenerate,
revoke; and their secrets: access tokens, refresh tokens and grant codes. Services never commit.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, delete, func, select
from sqlalchemy.orm import Session, aliased

from ostiary.clock import utcnow
from ostiary.errors import Forbidden, InvalidParams, NotFound, Unauthorized
from ostiary.events import RequestContext, record_event
from ostiary.oauth_clients.models import OAuthClient
from ostiary.security.hashing import SecretHasher
from ostiary.security.tokens import TokenKind, mint_token
from ostiary.tokens.models import (
    AccessToken,
    Authorization,
    AuthorizationGrant,
    AuthorizationKind,
    RefreshToken,
)
from ostiary.tokens.scopes import covers
from ostiary.tokens.services import (
    IssuedToken,
    issue_access_token,
    mint_stored,
    revoke_access_tokens,
)

MAX_EXPIRES_IN = 10 * 365 * 24 * 3600
# A child of an OAuth grant (the ostiary CLI's login) lives at most this long, whatever it asks:
# a grant has no expiry of its own, and its short access token must not buy a permanent one.
OAUTH_CHILD_LIFETIME = 365 * 24 * 3600
MAX_LINEAGE = 32


@dataclass(frozen=True, slots=True)
class IssuedRefresh:
    """A new refresh token: its row and its plaintext, shown once."""

    row: RefreshToken
    plaintext: str


@dataclass(frozen=True, slots=True)
class IssuedGrant:
    """A new authorization code: its row and its plaintext, shown once."""

    row: AuthorizationGrant
    code: str


@dataclass(frozen=True, slots=True)
class TokenSet:
    """What a token response (RFC 6749 section 5.1) tells a client: new secrets, shown once."""

    access_token: str
    expires_at: datetime | None
    scopes: list[str]
    account_id: str
    session_id: str | None
    refresh_token: str | None = None


@dataclass(frozen=True, slots=True)
class IssuedAuthorization:
    """An authorization with the secrets issued for it."""

    authorization: Authorization
    access: IssuedToken
    refresh: IssuedRefresh | None = None
    grant: IssuedGrant | None = None

    def token_set(self) -> TokenSet:
        """The secrets as a token response shows them."""
        return TokenSet(
            access_token=self.access.plaintext,
            expires_at=self.access.row.expires_at,
            scopes=list(self.authorization.scopes),
            account_id=self.authorization.account_id,
            session_id=self.authorization.session_id,
            refresh_token=self.refresh.plaintext if self.refresh else None,
        )


def authorization_event(
    session: Session,
    context: RequestContext,
    action: str,
    authorization: Authorization,
    details: dict[str, object] | None = None,
) -> None:
    """Record an event about an authorization, by its account."""
    record_event(
        session,
        context,
        action,
        actor_id=authorization.account_id,
        target_type="authorization",
        target_id=authorization.id,
        details=details,
    )


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


def issue_refresh_token(
    session: Session, hasher: SecretHasher, authorization: Authorization
) -> IssuedRefresh:
    """A refresh token of the authorization's current generation."""
    plaintext, stored = mint_stored(hasher, TokenKind.OAUTH_REFRESH)
    row = RefreshToken(
        **stored, authorization_id=authorization.id, generation=authorization.refresh_generation
    )
    session.add(row)
    return IssuedRefresh(row=row, plaintext=plaintext)


def issue_grant(
    session: Session,
    hasher: SecretHasher,
    authorization: Authorization,
    *,
    ttl: int,
    redirect_uri: str | None = None,
    code_challenge: str | None = None,
) -> IssuedGrant:
    """A one-time authorization code for the authorization's client (RFC 6749 section 4.1.2)."""
    code = mint_token(TokenKind.GRANT_CODE)
    row = AuthorizationGrant(
        authorization_id=authorization.id,
        code_hash=hasher.hash(code),
        redirect_uri=redirect_uri,
        code_challenge=code_challenge,
        expires_at=utcnow() + timedelta(seconds=ttl),
    )
    session.add(row)
    return IssuedGrant(row=row, code=code)


def access_expiry(authorization: Authorization, oauth_ttl: int) -> datetime | None:
    """When a new access token of this authorization expires: OAuth tokens are short-lived."""
    if authorization.kind != AuthorizationKind.OAUTH:
        return authorization.expires_at
    short = utcnow() + timedelta(seconds=oauth_ttl)
    return min(short, authorization.expires_at) if authorization.expires_at else short


def create_authorization(
    session: Session,
    hasher: SecretHasher,
    context: RequestContext,
    *,
    account_id: str,
    scopes: list[str],
    description: str,
    expires_in: int | None,
    creator_scopes: frozenset[str],
    client: OAuthClient | None = None,
    login_session_id: str | None = None,
    parent: Authorization | None = None,
    oauth_ttl: int,
    grant_ttl: int,
) -> IssuedAuthorization:
    """Create an authorization no wider than the credential creating it.

    Without a client it is a personal token. With one it is an OAuth grant to that client: a
    short-lived access token, a rotating refresh token, and a code the client can exchange.
    Made with a token, it is the child of that token's authorization (``parent``): it expires
    no later than the parent and is deleted with it.
    """
    if not covers(creator_scopes, scopes):
        raise Forbidden(
            f"Your credential cannot grant {', '.join(scopes)}: "
            "an authorization can have at most the scopes of the token creating it."
        )
    now = utcnow()
    expires_at = now + timedelta(seconds=expires_in) if expires_in else None
    if parent is not None:
        limit = parent.expires_at
        if parent.kind == AuthorizationKind.OAUTH:
            cap = now + timedelta(seconds=OAUTH_CHILD_LIFETIME)
            limit = min(limit, cap) if limit else cap
        if limit is not None:
            expires_at = min(expires_at or limit, limit)
    authorization = Authorization(
        account_id=account_id,
        kind=AuthorizationKind.OAUTH if client else AuthorizationKind.PERSONAL,
        scopes=scopes,
        description=description[:500],
        client_id=client.id if client else None,
        session_id=login_session_id,
        parent_id=parent.id if parent else None,
        expires_at=expires_at,
    )
    session.add(authorization)
    session.flush()
    access = issue_access_token(session, hasher, authorization)
    access.row.expires_at = access_expiry(authorization, oauth_ttl)
    refresh = grant = None
    if client is not None:
        refresh = issue_refresh_token(session, hasher, authorization)
        grant = issue_grant(session, hasher, authorization, ttl=grant_ttl)
    session.flush()
    record_event(
        session,
        context,
        "token:authorization:create",
        actor_id=account_id,
        target_type="authorization",
        target_id=authorization.id,
        details={
            "scope": scopes,
            "client_id": authorization.client_id,
            "parent_id": authorization.parent_id,
        },
    )
    return IssuedAuthorization(authorization, access, refresh, grant)


def check_may_create_authorizations(parent: Authorization) -> None:
    """Who may create authorizations with a token (docs/architecture.md, "Tokens").

    A person's own credentials may: the API key, personal tokens, a login session's token, and
    the grant of a first-party client (the ``ostiary`` CLI, which ships with the server). A
    third-party application's OAuth token may not, nor may a client-credentials token: either
    would let an application mint a credential its user never saw being made.
    """
    if parent.kind == AuthorizationKind.CLIENT_CREDENTIALS:
        raise Forbidden(
            "A client-credentials token acts for an application: it cannot create authorizations."
        )
    if parent.kind == AuthorizationKind.OAUTH and (
        parent.client is None or parent.client.owner_id is not None
    ):
        raise Forbidden(
            "An OAuth token of a third-party application cannot create authorizations; "
            "use your API key or a token of your own."
        )


def consented(session: Session, account_id: str, client_id: str, scopes: list[str]) -> bool:
    """Whether the account already granted this client these scopes, with a grant still live.

    Revoking the client's authorizations (or the client) withdraws the consent with them.
    """
    live = session.scalars(
        select(Authorization).where(
            Authorization.account_id == account_id,
            Authorization.client_id == client_id,
            Authorization.kind == AuthorizationKind.OAUTH,
            Authorization.revoked_at.is_(None),
            # Only what the user approved in a browser counts: an authorization made through
            # the API (with a token or a password login) for a client implies no consent.
            Authorization.parent_id.is_(None),
            Authorization.session_id.is_(None),
        )
    ).all()
    now = utcnow()
    return any(a.is_active(now) and set(scopes) <= set(a.scopes) for a in live)


def grant_code(
    session: Session,
    hasher: SecretHasher,
    context: RequestContext,
    *,
    account_id: str,
    client: OAuthClient,
    scopes: list[str],
    redirect_uri: str | None,
    code_challenge: str | None,
    grant_ttl: int,
) -> IssuedGrant:
    """A user's consent at the authorization endpoint: a new authorization (its own refresh
    family) holding only a code; tokens come from exchanging it (RFC 6749 section 4.1.2)."""
    authorization = Authorization(
        account_id=account_id,
        kind=AuthorizationKind.OAUTH,
        scopes=scopes,
        description=f"Authorized {client.name}",
        client_id=client.id,
    )
    session.add(authorization)
    session.flush()
    grant = issue_grant(
        session,
        hasher,
        authorization,
        ttl=grant_ttl,
        redirect_uri=redirect_uri,
        code_challenge=code_challenge,
    )
    session.flush()
    record_event(
        session,
        context,
        "oauth:consent:grant",
        actor_id=account_id,
        target_type="authorization",
        target_id=authorization.id,
        details={"client_id": client.id, "scope": scopes},
    )
    return grant


def authorizations_of(account_id: str) -> Select[Authorization]:
    """The account's authorizations except its API key, expired ones included, revoked not."""
    return select(Authorization).where(
        Authorization.account_id == account_id,
        Authorization.kind != AuthorizationKind.API_KEY,
        Authorization.revoked_at.is_(None),
    )


def find_authorization(
    session: Session, account_id: str, authorization_id: str, *, for_update: bool = False
) -> Authorization:
    """One of the account's authorizations (not the API key: that is ``~``)."""
    query = authorizations_of(account_id).where(Authorization.id == authorization_id)
    if for_update:
        query = query.with_for_update(of=Authorization)
    authorization = session.scalar(query)
    if authorization is None:
        raise NotFound("authorization")
    return authorization


def find_parent(
    session: Session, authorization_id: str, access_token_id: str | None
) -> Authorization:
    """The authorization of the token making a request, locked so that it cannot be revoked
    while a child is being made for it; and the token checked again under that lock, since it
    was authenticated before this transaction began (a regeneration may have revoked it since)."""
    parent = session.scalar(
        select(Authorization)
        .where(Authorization.id == authorization_id)
        .with_for_update(of=Authorization)
    )
    now = utcnow()
    token = session.get(AccessToken, access_token_id) if access_token_id else None
    if (
        parent is None
        or token is None
        or token.authorization_id != parent.id
        or token.revoked_at is not None
        or (token.expires_at is not None and token.expires_at <= now)
    ):
        raise Unauthorized("Invalid credentials provided.")
    return parent


def is_root_credential(authorization: Authorization) -> bool:
    """One of the account's standing credentials: the API key, or a personal token no other
    token made and no login session holds (made in the dashboard, or approved in a browser
    for the heroku CLI). Only these may act on credentials outside their own descendants."""
    return (
        authorization.kind in (AuthorizationKind.API_KEY, AuthorizationKind.PERSONAL)
        and authorization.parent_id is None
        and authorization.session_id is None
    )


def descends_from(session: Session, authorization: Authorization, ancestor_id: str) -> bool:
    """Whether ``authorization`` is ``ancestor_id`` or was made, through its parents, by it."""
    current: Authorization | None = authorization
    for _ in range(MAX_LINEAGE):
        if current is None:
            return False
        if current.id == ancestor_id:
            return True
        current = session.get(Authorization, current.parent_id) if current.parent_id else None
    return False


def check_may_regenerate(session: Session, caller: Authorization, target: Authorization) -> None:
    """Regenerating hands the caller the target's new plaintext: a root credential may
    regenerate anything of the account; another token only itself and what it made, so that
    no token obtains a credential that outlives it."""
    check_may_create_authorizations(caller)
    if is_root_credential(caller) or descends_from(session, target, caller.id):
        return
    raise Forbidden(
        "This token can regenerate only itself and the tokens made with it; use your API key "
        "(or the dashboard) to regenerate others."
    )


def check_may_make_machine_credentials(caller: Authorization) -> None:
    """A client with client-credentials scopes is a credential of its own that no user approves
    and nothing revokes with the token that made it: only a root credential may make one,
    widen one or rotate its secret (the dashboard asks for a recent password)."""
    if not is_root_credential(caller):
        raise Forbidden(
            "Only your API key (or the dashboard) can give a client client-credentials scopes "
            "or rotate such a client's secret."
        )


def revoke_children(session: Session, authorization_id: str) -> int:
    """Revoke (delete) what the authorization's tokens made, with their own children."""
    return revoke_where(session, Authorization.parent_id == authorization_id)


def describe(
    session: Session, context: RequestContext, authorization: Authorization, description: str
) -> Authorization:
    """Change an authorization's description."""
    authorization.description = description[:500]
    authorization.updated_at = utcnow()
    authorization_event(session, context, "token:authorization:update", authorization)
    return authorization


def revoke_where(session: Session, *criteria: ColumnElement[bool]) -> int:
    """Revoke (delete) every authorization matching the criteria; how many there were."""
    result = session.execute(delete(Authorization).where(*criteria))
    return int(result.rowcount)  # type: ignore[attr-defined]


def revoke(session: Session, context: RequestContext, authorization: Authorization) -> None:
    """Revoke an authorization: its row and every token of it are deleted."""
    session.delete(authorization)
    authorization_event(session, context, "token:authorization:revoke", authorization)


def regenerate(
    session: Session,
    hasher: SecretHasher,
    context: RequestContext,
    authorization: Authorization,
    *,
    oauth_ttl: int,
) -> IssuedAuthorization:
    """New tokens with the same scopes, description and lifetime policy; old ones die at commit,
    and so does every authorization the old tokens created (its children, and theirs)."""
    now = utcnow()
    revoke_access_tokens(session, authorization, now)
    children = revoke_children(session, authorization.id)
    access = issue_access_token(session, hasher, authorization)
    access.row.expires_at = access_expiry(authorization, oauth_ttl)
    refresh = None
    if authorization.kind == AuthorizationKind.OAUTH:
        authorization.refresh_generation += 1
        refresh = issue_refresh_token(session, hasher, authorization)
    authorization.updated_at = now
    session.flush()
    kind = "api-key" if authorization.kind == AuthorizationKind.API_KEY else "authorization"
    authorization_event(
        session,
        context,
        f"token:{kind}:regenerate",
        authorization,
        {"children_revoked": children},
    )
    return IssuedAuthorization(authorization, access, refresh)


@dataclass(frozen=True, slots=True)
class LiveTokens:
    """An authorization's newest live access token and current refresh token, if any."""

    access: AccessToken | None = None
    refresh: RefreshToken | None = None


def live_tokens(session: Session, authorizations: Sequence[Authorization]) -> dict[str, LiveTokens]:
    """The live tokens of several authorizations, in two queries whatever their number."""
    ids = [authorization.id for authorization in authorizations]
    # The newest live access token of each (a client-credentials authorization holds thousands).
    ranked = (
        select(
            AccessToken,
            func.row_number()
            .over(partition_by=AccessToken.authorization_id, order_by=AccessToken.created_at.desc())
            .label("rank"),
        )
        .where(AccessToken.authorization_id.in_(ids), AccessToken.revoked_at.is_(None))
        .subquery()
    )
    newest = aliased(AccessToken, ranked)
    access = {
        token.authorization_id: token
        for token in session.scalars(select(newest).where(ranked.c.rank == 1))
    }
    refresh = {
        token.authorization_id: token
        for token in session.scalars(
            select(RefreshToken)
            .join(Authorization, RefreshToken.authorization_id == Authorization.id)
            .where(
                RefreshToken.authorization_id.in_(ids),
                RefreshToken.generation == Authorization.refresh_generation,
            )
        )
    }
    return {i: LiveTokens(access.get(i), refresh.get(i)) for i in ids}


def is_expired(authorization: Authorization, now: datetime | None = None) -> bool:
    """Whether the authorization's lifetime is over (it stays listed until deleted)."""
    return authorization.expires_at is not None and authorization.expires_at <= (now or utcnow())
