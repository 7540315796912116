"""Responding to a reported leak: find the stored token, revoke it with what it grants, record
the event and tell the owner (a "leaked" alert, delivered by mail and webhook).

A token is found by its keyed hash, as the authenticator finds it; a string that is not one of
ours (checksum wrong, unknown kind, no such hash) touches nothing. Services never commit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from ostiary.alerts.records import Anomaly
from ostiary.alerts.services import raise_alerts
from ostiary.leaks.records import ReportedToken
from ostiary.leaks.rules import TOKEN_PATTERN, revocable_kind
from ostiary.security.tokens import TokenKind
from ostiary.tokens.models import AccessToken, Authorization, AuthorizationKind, RefreshToken
from ostiary.tokens.services import authorization_event, revoke_access_row, revoke_with_descendants
from ostiary.unit import Unit

REDACTED = "[redacted token]"


@dataclass(frozen=True, slots=True)
class StoredLeak:
    """The stored token a report names: its authorization, and its access token row when it is
    one (an API key's or a personal or OAuth access token), or its refresh token row."""

    authorization: Authorization
    access_token: AccessToken | None
    refresh_token: RefreshToken | None = None

    def is_dead(self, now: datetime) -> bool:
        """Whether the token could no longer be used before this report: revoked, expired (an
        OAuth access token's hour, a retired token's grace over), a refresh token rotated
        already, or of a dead authorization. Whoever holds a dead copy gains nothing by it, so
        reporting one must not revoke the live credential it was replaced by."""
        if not self.authorization.is_active(now):
            return True
        if self.refresh_token is not None:
            return self.refresh_token.rotated_at is not None
        return self.access_token is not None and not self.access_token.is_active(now)

    @property
    def is_retiring(self) -> bool:
        """Whether the token is an old one still working in a rotation's grace."""
        return self.access_token is not None and self.access_token.retiring_at is not None


def find_stored(unit: Unit, token: str) -> StoredLeak | None:
    """The stored token ``token`` is, live or revoked; None without a lookup when its checksum
    or kind rules it out, and None when no such token is stored."""
    kind = revocable_kind(token)
    if kind is None:
        return None
    token_hash = unit.hasher.hash(token)
    if kind == TokenKind.OAUTH_REFRESH:
        refresh = unit.session.scalar(
            select(RefreshToken).where(RefreshToken.token_hash == token_hash)
        )
        return StoredLeak(refresh.authorization, None, refresh) if refresh is not None else None
    access = unit.session.scalar(select(AccessToken).where(AccessToken.token_hash == token_hash))
    return StoredLeak(access.authorization, access) if access is not None else None


def clean_url(url: str) -> str:
    """A reported URL as it may be stored and shown: any token-shaped text in it (a reporter
    may paste the token itself) replaced, so no plaintext secret reaches the event log."""
    return TOKEN_PATTERN.sub(REDACTED, url)


def respond_to_leak(
    unit: Unit, reported: ReportedToken, *, where: str, tell_if_revoked: bool
) -> bool:
    """Whether ``reported`` is a real token (live or dead already). A live one is revoked at
    once: an API key's token (the key stays, for its owner to regenerate), an old token in a
    rotation's grace (its replacement stays), or else the whole authorization of the token,
    each with the authorizations it made. The event ``token:leak:revoke`` records where it was
    found, and the owner is told by a "leaked" alert.

    A dead token (``StoredLeak.is_dead``) revokes nothing: it is told again only when
    ``tell_if_revoked`` (a signed GitHub report of a new place); a public report of it changes
    nothing, so unsigned reports write at most one event and one alert per real token.
    """
    stored = find_stored(unit, reported.token)
    if stored is None:
        return False
    already_dead = stored.is_dead(unit.now())
    if already_dead and not tell_if_revoked:
        return True
    authorization = stored.authorization
    if not already_dead:
        only_the_token = authorization.kind == AuthorizationKind.API_KEY or stored.is_retiring
        if only_the_token and stored.access_token is not None:
            revoke_access_row(unit, stored.access_token)
        else:
            revoke_with_descendants(
                unit.session, Authorization.id == authorization.id, now=unit.now()
            )
    url = clean_url(reported.url)
    facts: dict[str, object] = {"url": url, "source": reported.source, "where": where}
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
                observed_at=unit.now(),
                details={**facts, "occasion": f"{where}:{url}"},
            )
        ],
        unit.context,
    )
    return True
