"""Authenticating a request by its bearer token: the hot path of every API call.

One indexed SELECT (token hash -> authorization -> account) per request, run as a
:class:`~ostiary.prepared.PreparedQuery`. Nothing is cached, so a revoked or regenerated token
fails on the very next request in every worker. ``last_used_at`` is written at most once a
minute per authorization so that reads do not turn into writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import NoReturn

from sqlalchemy import bindparam, update

from ostiary.accounts.models import Account
from ostiary.accounts.records import ACCOUNT_SNAPSHOT, AccountSnapshot
from ostiary.clock import utcnow
from ostiary.db import Database, table_of
from ostiary.errors import Audit, Unauthorized
from ostiary.events import RequestContext
from ostiary.prepared import ReadModel
from ostiary.security.hashing import SecretHasher
from ostiary.security.tokens import token_kind
from ostiary.tokens.models import AccessToken, Authorization
from ostiary.tokens.records import Principal

LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class PresentedToken:
    """A presented access token as the check reads it: its state, its authorization's, and the
    account it acts for."""

    access_token_id: str
    token_expires_at: datetime | None
    token_revoked: bool
    authorization_id: str
    authorization_kind: str
    scopes: list[str]
    authorization_expires_at: datetime | None
    authorization_revoked: bool
    last_used_at: datetime | None
    session_id: str | None
    client_id: str | None
    account: AccountSnapshot


_tokens = table_of(AccessToken)
_authorizations = table_of(Authorization)
_accounts = table_of(Account)

_PRESENTED = ReadModel(
    PresentedToken,
    access_token_id=_tokens.c.id,
    token_expires_at=_tokens.c.expires_at,
    token_revoked=_tokens.c.revoked_at.is_not(None),
    authorization_id=_authorizations.c.id,
    authorization_kind=_authorizations.c.kind,
    scopes=_authorizations.c.scopes,
    authorization_expires_at=_authorizations.c.expires_at,
    authorization_revoked=_authorizations.c.revoked_at.is_not(None),
    last_used_at=_authorizations.c.last_used_at,
    session_id=_authorizations.c.session_id,
    client_id=_authorizations.c.client_id,
    account=ACCOUNT_SNAPSHOT,
)

_LOOKUP = (
    _PRESENTED.select()
    .join_from(_tokens, _authorizations, _tokens.c.authorization_id == _authorizations.c.id)
    .join(_accounts, _authorizations.c.account_id == _accounts.c.id)
    .where(_tokens.c.token_hash == bindparam("token_hash"))
)

_TOUCH = (
    update(Authorization)
    .where(Authorization.id == bindparam("authorization_id"))
    .values(last_used_at=bindparam("now"), last_used_ip=bindparam("ip"))
)


class TokenAuthenticator:
    """Turns a bearer token into a :class:`Principal`, or raises :class:`Unauthorized`."""

    def __init__(self, database: Database, hasher: SecretHasher) -> None:
        self._database = database
        self._hasher = hasher
        self._lookup = database.prepared(_LOOKUP)

    def authenticate(self, token: str, context: RequestContext) -> Principal:
        """The principal for a live token; Unauthorized (and an event) for anything else."""
        now = datetime.now(UTC)  # not utcnow(): that drops the microseconds
        if token_kind(token) is None:
            self._refuse("malformed token")
        found = self._lookup.first_as(_PRESENTED, token_hash=self._hasher.hash(token))
        if found is None:
            self._refuse("unknown token")
        if found.token_revoked or found.authorization_revoked:
            self._refuse("revoked token", found.authorization_id)
        for expiry in (found.token_expires_at, found.authorization_expires_at):
            if expiry is not None and expiry <= now:
                self._refuse("expired token", found.authorization_id)
        last_used = found.last_used_at
        if last_used is None or now - last_used >= LAST_USED_RESOLUTION:
            self._touch(found.authorization_id, utcnow(), context.ip)
        return Principal(
            account=found.account,
            authorization_id=found.authorization_id,
            authorization_kind=found.authorization_kind,
            scopes=frozenset(found.scopes),
            session_id=found.session_id,
            client_id=found.client_id,
            access_token_id=found.access_token_id,
        )

    def _touch(self, authorization_id: str, now: datetime, ip: str | None) -> None:
        with self._database.write_engine.begin() as connection:
            connection.execute(_TOUCH, {"authorization_id": authorization_id, "now": now, "ip": ip})

    @staticmethod
    def _refuse(reason: str, authorization_id: str | None = None) -> NoReturn:
        raise Unauthorized(
            "Invalid credentials provided.",
            audit=Audit(
                "auth:failure",
                target_type="authorization" if authorization_id else None,
                target_id=authorization_id,
                details={"reason": reason},
            ),
        )
