"""Authenticating a request by its bearer token: the hot path of every API call.

One indexed SELECT (token hash -> authorization -> account) per request. The statement is built
with SQLAlchemy and compiled once per dialect, then run on a pooled DBAPI connection: measured on
these machines, an ORM session per request halves throughput and SQLAlchemy's per-execution
machinery (autobegin, execution context, result processing) costs another third of this path
(docs/architecture.md). Nothing is cached, so a revoked or regenerated token fails on the very
next request in every worker. ``last_used_at`` is written at most once a minute per authorization
so that reads do not turn into writes.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import Engine, bindparam, select, update

from ostiary.accounts.models import Account
from ostiary.clock import utcnow
from ostiary.db import Database
from ostiary.errors import Unauthorized
from ostiary.events import Audit, RequestContext
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

    @property
    def account_id(self) -> str:
        """The id of the account the request acts for."""
        return self.account.id


_LOOKUP = (
    select(
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


def _aware(value: Any) -> datetime | None:
    if isinstance(value, str):
        return datetime.fromisoformat(value + "+00:00")
    return value.replace(tzinfo=UTC) if value is not None else None


def _as_list(value: Any) -> list[str]:
    return json.loads(value) if isinstance(value, str) else list(value)


class _LookupStatement:
    """The lookup compiled for one engine's dialect, run on a connection kept for it.

    Each thread keeps one DBAPI connection out of the pool for this statement alone, in
    autocommit mode, so every lookup sees the latest committed revocation and no transaction
    stays open. A connection that fails is invalidated and replaced once.
    """

    def __init__(self, engine: Engine) -> None:
        compiled = _LOOKUP.compile(dialect=engine.dialect)
        self._engine = engine
        self._sql = str(compiled)
        self._positional = compiled.positional
        self._dbapi_error: type[Exception] = engine.dialect.loaded_dbapi.Error
        self._local = threading.local()

    def _connection(self) -> Any:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._engine.raw_connection()
            if self._engine.dialect.name == "postgresql":
                connection.driver_connection.autocommit = True  # type: ignore[union-attr]
            # SQLite connections are already in autocommit (db._configure_sqlite).
            self._local.connection = connection
        return connection

    def fetch(self, token_hash: str) -> tuple[Any, ...] | None:
        """The lookup's row for a token hash, or None."""
        params: Any = (token_hash,) if self._positional else {"token_hash": token_hash}
        for attempt in range(2):
            connection = self._connection()
            try:
                cursor = connection.cursor()
                cursor.execute(self._sql, params)
                row = cursor.fetchone()
                cursor.close()
            except self._dbapi_error:
                connection.invalidate()
                self._local.connection = None
                if attempt:
                    raise
                continue
            return tuple(row) if row is not None else None
        return None


class TokenAuthenticator:
    """Turns a bearer token into a :class:`Principal`, or raises :class:`Unauthorized`."""

    def __init__(self, database: Database, hasher: SecretHasher) -> None:
        self._database = database
        self._hasher = hasher
        self._lookup = _LookupStatement(database.engine)

    def authenticate(self, token: str, context: RequestContext) -> Principal:
        """The principal for a live token; Unauthorized (and an event) for anything else."""
        now = datetime.now(UTC).replace(tzinfo=None)
        if token_kind(token) is None:
            self._refuse("malformed token")
        row = self._lookup.fetch(self._hasher.hash(token))
        if row is None:
            self._refuse("unknown token")
        (
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
                created_at=_aware(created_at) or utcnow(),
                updated_at=_aware(updated_at) or utcnow(),
                last_login=_aware(last_login),
            ),
            authorization_id=authorization_id,
            authorization_kind=kind,
            scopes=frozenset(_as_list(scopes)),
            session_id=session_id,
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
