"""Issuing, regenerating, describing and revoking authorizations and their secrets. Services take
the request's :class:`~ostiary.unit.Unit` and add to its session; they never commit.

Revoking sets ``revoked_at`` and keeps the row, so that what was revoked can still be named
later; ``ostiary.purge`` deletes revoked rows after ``REVOKED_RETENTION``. Revoking an
authorization revokes its descendants with it (what its tokens made, and so on), which
:func:`revoke_with_descendants` does for every path.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from ostiary.accounts.models import Account
from ostiary.clock import utcnow
from ostiary.oauth2.protocols import ClientIdentity
from ostiary.oauth_clients.queries import find_client
from ostiary.policies.errors import OutsidePolicy
from ostiary.policies.services import lifetime_for
from ostiary.scopes import covers, parse_scopes
from ostiary.security.hashing import SecretHasher
from ostiary.security.tokens import TokenKind, display_parts, mint_token
from ostiary.tokens.errors import AuthorizationNotFound, CredentialNotAllowed
from ostiary.tokens.models import (
    AccessToken,
    Authorization,
    AuthorizationGrant,
    AuthorizationKind,
    RefreshToken,
)
from ostiary.tokens.queries import descends_from, find_live_access_token
from ostiary.tokens.records import (
    IssuedAuthorization,
    IssuedGrant,
    IssuedRefresh,
    IssuedToken,
    NewAuthorization,
    RequestedAuthorization,
)
from ostiary.tokens.rotation import retire_access_tokens
from ostiary.tokens.rules import (
    OAUTH_CHILD_LIFETIME,
    TOKEN_KIND_BY_AUTHORIZATION,
    access_expiry,
    check_may_create_authorizations,
    check_may_regenerate,
    parse_expires_in,
)
from ostiary.unit import Unit


def authorization_event(
    unit: Unit,
    action: str,
    authorization: Authorization,
    details: dict[str, object] | None = None,
) -> None:
    """Record an event about an authorization, by its account."""
    unit.record(
        action,
        actor_id=authorization.account_id,
        target_type="authorization",
        target_id=authorization.id,
        details=details,
    )


def issue_refresh_token(unit: Unit, authorization: Authorization) -> IssuedRefresh:
    """A refresh token of the authorization's current generation."""
    plaintext, stored = mint_stored(unit.hasher, TokenKind.OAUTH_REFRESH)
    row = RefreshToken(
        **stored, authorization_id=authorization.id, generation=authorization.refresh_generation
    )
    unit.session.add(row)
    return IssuedRefresh(row=row, plaintext=plaintext)


def issue_grant(
    unit: Unit,
    authorization: Authorization,
    *,
    redirect_uri: str | None = None,
    code_challenge: str | None = None,
) -> IssuedGrant:
    """A one-time authorization code for the authorization's client, living
    ``unit.lifetimes.grant_code`` seconds (RFC 6749 section 4.1.2)."""
    code = mint_token(TokenKind.GRANT_CODE)
    row = AuthorizationGrant(
        authorization_id=authorization.id,
        code_hash=unit.hasher.hash(code),
        redirect_uri=redirect_uri,
        code_challenge=code_challenge,
        expires_at=unit.now() + timedelta(seconds=unit.lifetimes.grant_code),
    )
    unit.session.add(row)
    return IssuedGrant(row=row, code=code)


def create_authorization(unit: Unit, request: NewAuthorization) -> IssuedAuthorization:
    """Create an authorization no wider than the credential creating it.

    Without a client it is a personal token. With one it is an OAuth grant to that client: a
    short-lived access token, a rotating refresh token, and a code the client can exchange.
    Made with a token, it is the child of that token's authorization (``parent``): it expires
    no later than the parent and is revoked with it.
    """
    scopes, client, parent = request.scopes, request.client, request.parent
    if not covers(request.creator_scopes, scopes):
        raise CredentialNotAllowed(
            f"Your credential cannot grant {', '.join(scopes)}: "
            "an authorization can have at most the scopes of the token creating it."
        )
    now = unit.now()
    # A login's lifetime (a login session's token, the first-party CLI's child of its grant) is
    # the client program's choice, capped by the policy; a token someone asks for is refused.
    login = request.login_session_id is not None or (
        parent is not None and parent.kind == AuthorizationKind.OAUTH
    )
    expires_in = lifetime_for(unit, request.account_id, scopes, request.expires_in, cap=login)
    expires_at = now + timedelta(seconds=expires_in) if expires_in else None
    if parent is not None:
        limit = parent.expires_at
        if parent.kind == AuthorizationKind.OAUTH:
            cap = now + timedelta(seconds=OAUTH_CHILD_LIFETIME)
            limit = min(limit, cap) if limit else cap
        if limit is not None:
            expires_at = min(expires_at or limit, limit)
    authorization = Authorization(
        account_id=request.account_id,
        kind=AuthorizationKind.OAUTH if client else AuthorizationKind.PERSONAL,
        scopes=scopes,
        description=request.description[:500],
        client_id=client.id if client else None,
        session_id=request.login_session_id,
        parent_id=parent.id if parent else None,
        expires_at=expires_at,
    )
    unit.session.add(authorization)
    unit.session.flush()
    access = issue_access_token(unit, authorization)
    refresh = grant = None
    if client is not None:
        refresh = issue_refresh_token(unit, authorization)
        grant = issue_grant(unit, authorization)
    unit.session.flush()
    unit.record(
        "token:authorization:create",
        actor_id=request.account_id,
        target_type="authorization",
        target_id=authorization.id,
        details={
            "scope": scopes,
            "client_id": authorization.client_id,
            "parent_id": authorization.parent_id,
        },
    )
    return IssuedAuthorization(authorization, access, refresh, grant)


def create_requested(
    unit: Unit,
    requested: RequestedAuthorization,
    *,
    account_id: str,
    creator_scopes: frozenset[str],
    login_session_id: str | None = None,
    parent: Authorization | None = None,
) -> IssuedAuthorization:
    """The authorization an API client asked for, its scope and lifetime parsed here; it may
    name only one of the account's own clients (another's would hand that client a code)."""
    scopes = ["global"] if requested.scope is None else parse_scopes(requested.scope)
    client_id = requested.client_id
    client = find_client(unit.session, client_id, owner_id=account_id) if client_id else None
    return create_authorization(
        unit,
        NewAuthorization(
            account_id=account_id,
            scopes=scopes,
            description=requested.description,
            expires_in=parse_expires_in(requested.expires_in),
            creator_scopes=creator_scopes,
            client=client,
            login_session_id=login_session_id,
            parent=parent,
        ),
    )


def create_child(
    unit: Unit,
    parent: Authorization,
    requested: RequestedAuthorization,
    *,
    creator_scopes: frozenset[str],
) -> IssuedAuthorization:
    """An authorization made with a token: the child of the token's authorization ``parent``
    (locked: ``tokens.queries.find_parent``), if that kind of token may make one; at most
    ``creator_scopes``, the token's."""
    check_may_create_authorizations(parent)
    return create_requested(
        unit,
        requested,
        account_id=parent.account_id,
        creator_scopes=creator_scopes,
        parent=parent,
    )


def grant_code(
    unit: Unit,
    *,
    account_id: str,
    client: ClientIdentity,
    scopes: list[str],
    redirect_uri: str | None,
    code_challenge: str | None,
) -> IssuedGrant:
    """A user's consent at the authorization endpoint: a new authorization (its own refresh
    family) holding only a code; tokens come from exchanging it (RFC 6749 section 4.1.2). The
    grant lives as long as the account's token policy allows."""
    authorization = Authorization(
        account_id=account_id,
        kind=AuthorizationKind.OAUTH,
        scopes=scopes,
        description=f"Authorized {client.name}",
        client_id=client.id,
        expires_at=grant_expiry(unit, account_id, scopes),
    )
    unit.session.add(authorization)
    unit.session.flush()
    grant = issue_grant(
        unit, authorization, redirect_uri=redirect_uri, code_challenge=code_challenge
    )
    unit.session.flush()
    unit.record(
        "oauth:consent:grant",
        actor_id=account_id,
        target_type="authorization",
        target_id=authorization.id,
        details={"client_id": client.id, "scope": scopes},
    )
    return grant


def grant_expiry(unit: Unit, account_id: str, scopes: list[str]) -> datetime | None:
    """When an OAuth grant (consent, device) made now expires under the account's policy: at
    most its maximum lifetime; a year where the policy wants every token to expire and sets no
    maximum (a grant is not refused: the person approving it chose no lifetime)."""
    try:
        lifetime = lifetime_for(unit, account_id, scopes, None)
    except OutsidePolicy:
        lifetime = OAUTH_CHILD_LIFETIME
    return unit.now() + timedelta(seconds=lifetime) if lifetime else None


def revoke_children(unit: Unit, authorization_id: str) -> int:
    """Revoke what the authorization's tokens made, with their own descendants; how many
    children (the first generation) were live."""
    return revoke_with_descendants(unit.session, Authorization.parent_id == authorization_id)


def describe(unit: Unit, authorization: Authorization, description: str) -> Authorization:
    """Change an authorization's description."""
    authorization.description = description[:500]
    authorization.updated_at = unit.now()
    authorization_event(unit, "token:authorization:update", authorization)
    return authorization


def lineage(session: Session, *criteria: ColumnElement[bool]) -> Iterator[list[str]]:
    """The ids of the live (not revoked) authorizations matching the criteria, then of their
    live children, and so on: one generation per item, however deep the lineage.

    The next generation is read only when the caller asks for it, so a caller that updates each
    generation (revoking, suspending) has done so before its children are read: a child made
    meanwhile under the parent's lock (``queries.find_parent``) is then seen. Each id comes
    once, so the walk ends even on data that loops.
    """
    live = Authorization.revoked_at.is_(None)
    seen: set[str] = set()
    generation = list(session.scalars(select(Authorization.id).where(*criteria, live)))
    while generation:
        seen.update(generation)
        yield generation
        generation = [
            found
            for found in session.scalars(
                select(Authorization.id).where(Authorization.parent_id.in_(generation), live)
            )
            if found not in seen
        ]


def revoke_with_descendants(
    session: Session, *criteria: ColumnElement[bool], now: datetime | None = None
) -> int:
    """Revoke every live authorization matching the criteria and all their live descendants
    (children by ``parent_id``, theirs, and so on); how many matched the criteria.

    Rows are kept with ``revoked_at`` set. The authenticator checks only a token's own
    authorization, so each descendant is marked itself: one generation per round of
    :func:`lineage`, in plain SELECT and UPDATE that SQLite and PostgreSQL run alike, until a
    generation is empty however deep the lineage (a fixed number of rounds would leave a chain
    made deeper on purpose alive). A revoked authorization has no live descendant (every path
    revokes through here), so the walk stops at rows already revoked.
    """
    now = now or utcnow()
    matched: int | None = None
    for generation in lineage(session, *criteria):
        matched = len(generation) if matched is None else matched
        session.execute(
            update(Authorization)
            .where(Authorization.id.in_(generation), Authorization.revoked_at.is_(None))
            .values(revoked_at=now)
        )
    return matched or 0


def revoke(
    unit: Unit, authorization: Authorization, action: str = "token:authorization:revoke"
) -> None:
    """Revoke an authorization and its descendants, recorded as ``action``: every token of
    theirs fails at commit, and the rows stay (with ``revoked_at``) until the purge's retention
    has passed."""
    revoke_with_descendants(unit.session, Authorization.id == authorization.id, now=unit.now())
    authorization_event(unit, action, authorization)


def revoke_client_access(unit: Unit, account_id: str, client_id: str) -> int:
    """Revoke every grant the account gave one OAuth client; how many there were (NotFound when
    none: nothing was granted to it)."""
    revoked = revoke_with_descendants(
        unit.session,
        Authorization.account_id == account_id,
        Authorization.client_id == client_id,
        Authorization.kind == AuthorizationKind.OAUTH,
    )
    if revoked == 0:
        raise AuthorizationNotFound()
    unit.record(
        "oauth:client:access-revoked",
        actor_id=account_id,
        target_type="client",
        target_id=client_id,
        details={"authorizations": revoked},
    )
    return revoked


def revoke_access_token(unit: Unit, account_id: str, token_id: str) -> AccessToken:
    """Revoke one live access token of the account, effective for the next request; what the
    token made dies with it (children are made with the authorization's tokens)."""
    token = find_live_access_token(unit.session, account_id, token_id)
    revoke_access_row(unit, token)
    unit.record(
        "token:access:revoke",
        actor_id=account_id,
        target_type="token",
        target_id=token.id,
    )
    return token


def revoke_access_row(unit: Unit, token: AccessToken) -> None:
    """Revoke one access token and what its authorization's tokens made. A second revocation
    keeps the first time."""
    # Queue behind a child being made with this token (``queries.find_parent`` locks the same
    # row), so the child is either seen and revoked here or refused there.
    unit.session.execute(
        select(Authorization.id)
        .where(Authorization.id == token.authorization_id)
        .with_for_update(of=Authorization)
    )
    token.revoked_at = token.revoked_at or unit.now()
    revoke_children(unit, token.authorization_id)


def regenerate(
    unit: Unit, authorization: Authorization, grace_period: int = 0
) -> IssuedAuthorization:
    """New tokens with the same scopes, description and lifetime policy; old ones die at commit,
    and so does every authorization the old tokens created (its children, and theirs). With a
    grace period (seconds) the old access tokens retire instead: they work until it ends
    (``tokens.rotation``); children and the refresh token still end at once."""
    now = unit.now()
    if grace_period > 0:
        retire_access_tokens(unit.session, authorization, now, grace_period)
    else:
        revoke_access_tokens(unit, authorization, now)
    children = revoke_children(unit, authorization.id)
    access = issue_access_token(unit, authorization)
    refresh = None
    if authorization.kind == AuthorizationKind.OAUTH:
        authorization.refresh_generation += 1
        refresh = issue_refresh_token(unit, authorization)
    authorization.updated_at = now
    unit.session.flush()
    kind = "api-key" if authorization.kind == AuthorizationKind.API_KEY else "authorization"
    details: dict[str, object] = {"children_revoked": children}
    if grace_period > 0:
        details["grace_period"] = grace_period
    authorization_event(unit, f"token:{kind}:regenerate", authorization, details)
    return IssuedAuthorization(authorization, access, refresh)


def regenerate_as(
    unit: Unit, caller: Authorization, target: Authorization, grace_period: int = 0
) -> IssuedAuthorization:
    """Regenerate ``target`` for the token whose authorization is ``caller`` (locked:
    ``tokens.queries.find_parent``), if it may (``tokens.rules.check_may_regenerate``), the old
    tokens retiring for ``grace_period`` seconds."""
    check_may_regenerate(
        caller, target_made_by_caller=descends_from(unit.session, target, caller.id)
    )
    return regenerate(unit, target, grace_period)


def mint_stored(hasher: SecretHasher, kind: TokenKind) -> tuple[str, dict[str, str]]:
    """A new token's plaintext, and the columns that store it (``HashedToken``)."""
    plaintext = mint_token(kind)
    head, tail = display_parts(plaintext)
    return plaintext, {
        "token_hash": hasher.hash(plaintext),
        "display_head": head,
        "display_tail": tail,
    }


def issue_access_token(unit: Unit, authorization: Authorization) -> IssuedToken:
    """Mint a new access token for an authorization, expiring as ``rules.access_expiry`` says
    (OAuth tokens are short-lived); only its keyed hash is stored."""
    kind = TOKEN_KIND_BY_AUTHORIZATION[AuthorizationKind(authorization.kind)]
    plaintext, stored = mint_stored(unit.hasher, kind)
    if authorization.id is None:
        unit.session.flush()  # the id is assigned at insert
    # Set the key, not the collection: appending would load every token the authorization ever
    # had (a client-credentials authorization gathers thousands).
    row = AccessToken(
        **stored,
        authorization_id=authorization.id,
        expires_at=access_expiry(authorization, unit.lifetimes.oauth_access),
    )
    unit.session.add(row)
    return IssuedToken(row=row, plaintext=plaintext)


def create_api_key(unit: Unit, account: Account) -> IssuedToken:
    """Give an account its API key: a global authorization that never expires."""
    authorization = Authorization(
        account=account,
        kind=AuthorizationKind.API_KEY,
        scopes=["global"],
        description="API key",
    )
    unit.session.add(authorization)
    issued = issue_access_token(unit, authorization)
    unit.session.flush()
    unit.record(
        "token:api-key:create",
        actor_id=account.id,
        target_type="authorization",
        target_id=authorization.id,
    )
    return issued


def revoke_access_tokens(
    unit: Unit, authorization: Authorization, now: datetime | None = None
) -> None:
    """Revoke every live access token of an authorization, effective for the next request, as of
    ``now`` (the unit's clock when not given)."""
    unit.session.execute(
        update(AccessToken)
        .where(
            AccessToken.authorization_id == authorization.id,
            AccessToken.revoked_at.is_(None),
        )
        .values(revoked_at=now or unit.now())
    )
