"""Authenticating a request by its bearer token: the hot path of every API call.

One indexed SELECT (token hash -> authorization -> account) per request, run as a
:class:`~ostiary.prepared.PreparedQuery`. Nothing is cached, so a revoked or regenerated token
fails on the very next request in every worker. ``last_used_at`` is written at most once a
minute per authorization so that reads do not turn into writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import bindparam, select, update

from ostiary.accounts.models import Account
from ostiary.clock import utcnow
from ostiary.db import Database
from ostiary.errors import Audit, Unauthorized
from ostiary.events import RequestContext
from ostiary.prepared import as_list, as_utc
from ostiary.security.hashing import SecretHasher
from ostiary.security.tokens import token_kind
from ostiary.tokens.models import AccessToken, Authorization

LAST_USED_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """The account's fields as read with the token: enough to answer ``GET /account``."""

    id: str
    email: str
    name: str | None
    allow_tracking: bool
    beta: bool
    created_at: datetime
    updated_at: datetime
    last_login: datetime | None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts for, and with what scopes."""

    account: AccountSnapshot
    authorization_id: str
    authorization_kind: str
    scopes: frozenset[str]
    session_id: str | None = None
    access_token_id: str | None = None

    @property
    def account_id(self) -> str:
        """The id of the account the request acts for."""
        return self.account.id


_LOOKUP = (
    select(
        AccessToken.id,
        AccessToken.expires_at,
        AccessToken.revoked_at,
        Authorization.id,
        Authorization.kind,
        Authorization.scopes,
        Authorization.expires_at,
        Authorization.revoked_at,
        Authorization.last_used_at,
        Authorization.session_id,
        Account.id,
        Account.email,
        Account.name,
        Account.allow_tracking,
        Account.beta,
        Account.created_at,
        Account.updated_at,
        Account.last_login,
    )
    .join(Authorization, AccessToken.authorization_id == Authorization.id)
    .join(Account, Authorization.account_id == Account.id)
    .where(AccessToken.token_hash == bindparam("token_hash"))
)

_TOUCH = (
    update(Authorization)
    .where(Authorization.id == bindparam("authorization_id"))
    .values(last_used_at=bindparam("now"), last_used_ip=bindparam("ip"))
)


def _naive_utc(value: Any) -> datetime | None:
    # SQLite hands back text, PostgreSQL a naive datetime; both hold UTC. Comparisons on this
    # path stay naive because attaching tzinfo costs more than the rest of the check.
    if value is None or isinstance(value, datetime):
        return value
    return datetime.fromisoformat(value)


class TokenAuthenticator:
    """Turns a bearer token into a :class:`Principal`, or raises :class:`Unauthorized`."""

    def __init__(self, database: Database, hasher: SecretHasher) -> None:
        self._database = database
        self._hasher = hasher
        self._lookup = database.prepared(_LOOKUP)

    def authenticate(self, token: str, context: RequestContext) -> Principal:
        """The principal for a live token; Unauthorized (and an event) for anything else."""
        now = datetime.now(UTC).replace(tzinfo=None)
        if token_kind(token) is None:
            self._refuse("malformed token")
        row = self._lookup.first(token_hash=self._hasher.hash(token))
        if row is None:
            self._refuse("unknown token")
        (
            access_token_id,
            token_expires,
            token_revoked,
            authorization_id,
            kind,
            scopes,
            authorization_expires,
            authorization_revoked,
            last_used_at,
            session_id,
            account_id,
            email,
            name,
            allow_tracking,
            beta,
            created_at,
            updated_at,
            last_login,
        ) = row
        if token_revoked is not None or authorization_revoked is not None:
            self._refuse("revoked token", authorization_id)
        for expiry in (token_expires, authorization_expires):
            if expiry is not None and _naive_utc(expiry) <= now:  # type: ignore[operator]
                self._refuse("expired token", authorization_id)
        last_used = _naive_utc(last_used_at)
        if last_used is None or now - last_used >= LAST_USED_RESOLUTION:
            self._touch(authorization_id, utcnow(), context.ip)
        return Principal(
            account=AccountSnapshot(
                id=account_id,
                email=email,
                name=name,
                allow_tracking=bool(allow_tracking),
                beta=bool(beta),
                created_at=as_utc(created_at) or utcnow(),
                updated_at=as_utc(updated_at) or utcnow(),
                last_login=as_utc(last_login),
            ),
            authorization_id=authorization_id,
            authorization_kind=kind,
            scopes=frozenset(as_list(scopes) or ()),
            session_id=session_id,
            access_token_id=access_token_id,
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
