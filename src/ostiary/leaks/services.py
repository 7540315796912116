"""Responding to a reported leak: find the stored secret, revoke it with what it grants, record
the event and tell the owner (a "leaked" alert, delivered by mail and webhook).

A token is found by its keyed hash, as the authenticator finds it; so are an OAuth client's
secret (current, or the previous one of a rotation's grace) and an authorization code. A string
that is not one of ours (checksum wrong, unknown kind, no such hash) touches nothing. Services
never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select

from ostiary.alerts.records import Anomaly
from ostiary.alerts.services import raise_alerts
from ostiary.leaks.records import ReportedToken
from ostiary.leaks.rules import TOKEN_PATTERN, revocable_kind
from ostiary.oauth_clients.models import OAuthClient
from ostiary.oauth_clients.queries import client_for_change
from ostiary.oauth_clients.services import retire_secret
from ostiary.security.tokens import TokenKind
from ostiary.tokens.models import (
    AccessToken,
    Authorization,
    AuthorizationGrant,
    AuthorizationKind,
    RefreshToken,
)
from ostiary.tokens.services import authorization_event, revoke_access_row, revoke_with_descendants
from ostiary.unit import Unit

REDACTED = "[redacted token]"


@dataclass(frozen=True, slots=True)
class StoredLeak:
    """The stored token a report names: its authorization, and its access token row when it is
    one (an API key's or a personal or OAuth access token), its refresh token row, or its
    authorization code (``grant``)."""

    authorization: Authorization
    access_token: AccessToken | None
    refresh_token: RefreshToken | None = None
    grant: AuthorizationGrant | None = None

    def is_dead(self, now: datetime) -> bool:
        """Whether the token could no longer be used before this report: revoked, expired (an
        OAuth access token's hour, a retired token's grace over, a code's minutes), a refresh
        token rotated already, a code used already, or of a dead authorization. Whoever holds a
        dead copy gains nothing by it, so reporting one must not revoke the live credential it
        was replaced by (nor a used code the grant its exchange made)."""
        if not self.authorization.is_active(now):
            return True
        if self.refresh_token is not None:
            return self.refresh_token.rotated_at is not None
        if self.grant is not None:
            return self.grant.used_at is not None or self.grant.expires_at <= now
        return self.access_token is not None and not self.access_token.is_active(now)

    @property
    def is_retiring(self) -> bool:
        """Whether the token is an old one still working in a rotation's grace."""
        return self.access_token is not None and self.access_token.retiring_at is not None


@dataclass(frozen=True, slots=True)
class LeakedClientSecret:
    """The confidential client a reported secret (``ostc_``) is of: its current secret, or the
    ``previous`` one a rotation replaced (or a leak report retired)."""

    client: OAuthClient
    previous: bool

    def is_dead(self, now: datetime) -> bool:
        """Whether the secret authenticated nothing before this report: a previous one whose
        grace is over (a retired secret is kept as one). The current secret is live."""
        ends = self.client.previous_secret_expires_at
        return self.previous and (ends is None or ends <= now)


def find_stored(unit: Unit, token: str) -> StoredLeak | None:
    """The stored token ``token`` is, live or revoked; None without a lookup when its checksum
    or kind rules it out (a client secret's is :func:`find_client_secret`), and None when no
    such token is stored. A code is locked: its exchange is decided before or after this."""
    kind = revocable_kind(token)
    if kind is None or kind == TokenKind.CLIENT_SECRET:
        return None
    token_hash = unit.hasher.hash(token)
    if kind == TokenKind.OAUTH_REFRESH:
        refresh = unit.session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash)
        )
        return StoredLeak(refresh.authorization, None, refresh) if refresh is not None else None
    if kind == TokenKind.GRANT_CODE:
        grant = unit.session.scalar(
            select(AuthorizationGrant)
            .where(AuthorizationGrant.code_hash == token_hash)
            .with_for_update(of=AuthorizationGrant)
        )
        return StoredLeak(grant.authorization, None, grant=grant) if grant is not None else None
    access = unit.session.scalar(select(AccessToken).where(AccessToken.token_hash == token_hash))
    return StoredLeak(access.authorization, access) if access is not None else None


def find_client_secret(unit: Unit, token: str) -> LeakedClientSecret | None:
    """The client whose current or previous secret ``token`` is, its row locked and its change
    lock held (a rotation, or the storing of its tokens, is decided before or after this); None
    without a lookup when it is not a well-formed client secret, and None when no client has it
    (a first-party client has no secret)."""
    if revocable_kind(token) != TokenKind.CLIENT_SECRET:
        return None
    secret_hash = unit.hasher.hash(token)
    has_secret = or_(
        OAuthClient.secret_hash == secret_hash, OAuthClient.previous_secret_hash == secret_hash
    )
    client = client_for_change(unit.session, has_secret)
    if client is None:
        return None
    return LeakedClientSecret(client, previous=client.secret_hash != secret_hash)


def clean_url(url: str) -> str:
    """A reported URL as it may be stored and shown: any token-shaped text in it (a reporter
    may paste the token itself) replaced, so no plaintext secret reaches the event log."""
    return TOKEN_PATTERN.sub(REDACTED, url)


def _facts_of(reported: ReportedToken, where: str) -> dict[str, object]:
    """What the event and the alert of a report say of it: where it was found (its URL cleaned
    of token-shaped text), by what kind of source, through which channel."""
    return {"url": clean_url(reported.url), "source": reported.source, "where": where}


def respond_to_leak(
    unit: Unit, reported: ReportedToken, *, where: str, tell_if_revoked: bool
) -> bool:
    """Whether ``reported`` is a real secret of ours (live or dead already). A live one is
    revoked at once: an API key's token (the key stays, for its owner to regenerate), an old
    token in a rotation's grace (its replacement stays), or else the whole authorization of the
    token, each with the authorizations it made; an authorization code is spent and its
    authorization revoked so (as a replayed code is, rule R11); a client secret is retired
    (:func:`respond_to_client_secret`). The event ``token:leak:revoke`` records where it was
    found, and the owner is told by a "leaked" alert.

    A dead one (``StoredLeak.is_dead``) revokes nothing: it is told again only when
    ``tell_if_revoked`` (a signed GitHub report of a new place); a public report of it changes
    nothing, so unsigned reports write at most one event and one alert per real secret.
    """
    if revocable_kind(reported.token) == TokenKind.CLIENT_SECRET:
        return respond_to_client_secret(
            unit, reported, where=where, tell_if_revoked=tell_if_revoked
        )
    stored = find_stored(unit, reported.token)
    if stored is None:
        return False
    now = unit.now()
    already_dead = stored.is_dead(now)
    if already_dead and not tell_if_revoked:
        return True
    authorization = stored.authorization
    if not already_dead:
        only_the_token = authorization.kind == AuthorizationKind.API_KEY or stored.is_retiring
        if only_the_token and stored.access_token is not None:
            revoke_access_row(unit, stored.access_token)
        else:
            if stored.grant is not None:
                stored.grant.used_at = now  # spent: an exchange racing this one is refused
            revoke_with_descendants(unit.session, Authorization.id == authorization.id, now=now)
    facts = _facts_of(reported, where)
    if stored.grant is not None:
        facts["grant"] = "code"
    authorization_event(
        unit, "token:leak:revoke", authorization, {**facts, "already_dead": already_dead}
    )
    raise_alerts(
        unit.session,
        [
            Anomaly(
                rule="leaked",
                account_id=authorization.account_id,
                authorization_id=authorization.id,
                observed_at=now,
                details={**facts, "occasion": f"{where}:{facts['url']}"},
            )
        ],
        unit.context,
    )
    return True


def respond_to_client_secret(
    unit: Unit, reported: ReportedToken, *, where: str, tell_if_revoked: bool
) -> bool:
    """Whether ``reported`` is a client's secret, current or previous (live or dead already).
    A live one is retired at once (``oauth_clients.services.retire_secret``): the previous one
    ends its grace, the current one authenticates nothing until the owner rotates the secret.
    Either way the client's client-credentials authorizations are revoked, with what they made:
    the secret alone was enough to mint their tokens. Its users' grants stay (each needs a code
    or a refresh token as well). The event ``oauth:client:leak:revoke`` names the client and
    where it was found, and the owner is told by a "leaked" alert about the client.

    A dead one (a previous secret past its grace, or one retired already) changes nothing, and
    is told again only when ``tell_if_revoked``, as for tokens (:func:`respond_to_leak`).
    """
    leaked = find_client_secret(unit, reported.token)
    if leaked is None:
        return False
    now = unit.now()
    already_dead = leaked.is_dead(now)
    if already_dead and not tell_if_revoked:
        return True
    client = leaked.client
    revoked = 0
    if not already_dead:
        retire_secret(unit, client, previous=leaked.previous)
        revoked = revoke_with_descendants(
            unit.session,
            Authorization.client_id == client.id,
            Authorization.kind == AuthorizationKind.CLIENT_CREDENTIALS,
            now=now,
        )
    which = "previous" if leaked.previous else "current"
    facts = _facts_of(reported, where)
    unit.record(
        "oauth:client:leak:revoke",
        actor_id=client.owner_id,
        target_type="client",
        target_id=client.id,
        details={
            **facts,
            "which": which,
            "client_credentials_revoked": revoked,
            "already_dead": already_dead,
        },
    )
    if client.owner_id is not None:  # always: a first-party client has no secret
        if not already_dead and not leaked.previous:
            facts["remedy"] = (
                "Rotate the application's secret to get a new one: nothing authenticates it "
                "until then."
            )
        raise_alerts(
            unit.session,
            [
                Anomaly(
                    rule="leaked",
                    account_id=client.owner_id,
                    authorization_id=None,
                    client_id=client.id,
                    observed_at=now,
                    details={
                        **facts,
                        "which": which,
                        "occasion": f"{where}:{facts['url']}:{which}",
                    },
                )
            ],
            unit.context,
        )
    return True
