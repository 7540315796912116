"""Proving an account's password: throttled first, hashed off the event loop, then recorded.

Every password check of the server comes through :class:`PasswordChecker`: the API's password
login (``heroku login -i``), the sign-in page, and the dashboard's re-authentication and
change-password forms. They spend one budget per account (its normalized email) and per address
(``security/throttle.py``), decided before any hashing, and hash in the worker's
:class:`~ostiary.security.passwords.PasswordPool`. No transaction is open meanwhile: the account's
hash is read by a prepared lookup, and the caller records the outcome in its own transaction
(:func:`record_login`).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from ostiary.accounts.models import Account
from ostiary.accounts.stores import normalize_email
from ostiary.clock import utcnow
from ostiary.db import Database
from ostiary.errors import Unauthorized
from ostiary.events import Audit, RequestContext, record_event
from ostiary.security.passwords import PasswordPool, needs_rehash
from ostiary.security.throttle import FailureThrottle

_BY_EMAIL = select(Account.id, Account.password_hash).where(Account.email == bindparam("email"))


def login_subject(email: str) -> str:
    """The throttle's key for an account: its email as looked up (trimmed, case-folded)."""
    return f"login:{normalize_email(email)}"


@dataclass(frozen=True, slots=True)
class ProvedPassword:
    """A password shown to be the account's; ``new_hash`` replaces a hash made with older
    parameters."""

    account_id: str
    new_hash: str | None = None


class PasswordChecker:
    """Checks passwords for one server process."""

    def __init__(self, database: Database, pool: PasswordPool, throttle: FailureThrottle) -> None:
        self._by_email = database.prepared(_BY_EMAIL)
        self._pool = pool
        self._throttle = throttle

    async def login(self, context: RequestContext, email: str, password: str) -> ProvedPassword:
        """The account an email and password sign in to, or Unauthorized (429 when throttled).

        An unknown email costs the same argon2 verification as a known one.
        """
        subject = login_subject(email)
        self._throttle.check(subject, context.ip)
        row = self._by_email.first(email=normalize_email(email))
        account_id, password_hash = row if row is not None else (None, None)
        if not await self._pool.verify(password_hash, password):
            self._throttle.failed(subject, context.ip)
            raise Unauthorized(
                "Invalid credentials provided.",
                audit=Audit(
                    "auth:password:failure",
                    actor_id=account_id,
                    details={"reason": "unknown email" if row is None else "wrong password"},
                ),
            )
        return await self._proved(account_id, password_hash, password)

    async def confirm(
        self,
        context: RequestContext,
        account: Account,
        password: str,
        *,
        failure: str,
        action: str,
    ) -> ProvedPassword:
        """Check the signed-in account's password again (re-authentication, password change);
        a wrong one raises Unauthorized with the message ``failure`` and the event ``action``."""
        subject = login_subject(account.email)
        self._throttle.check(subject, context.ip)
        if not password or not await self._pool.verify(account.password_hash, password):
            self._throttle.failed(subject, context.ip)
            raise Unauthorized(failure, audit=Audit(action, actor_id=account.id))
        return await self._proved(account.id, account.password_hash, password)

    async def new_hash(self, password: str) -> str:
        """A new password's hash (the caller validated the password)."""
        return await self._pool.hash(password)

    async def _proved(
        self, account_id: str | None, password_hash: str | None, password: str
    ) -> ProvedPassword:
        assert account_id is not None
        assert password_hash is not None
        rehashed = await self._pool.hash(password) if needs_rehash(password_hash) else None
        return ProvedPassword(account_id, rehashed)


def record_login(session: Session, context: RequestContext, proof: ProvedPassword) -> Account:
    """In the request's transaction: the proved account, its login time and event, and the
    hash upgraded when it was due."""
    account = session.get(Account, proof.account_id)
    if account is None:  # deleted since the password was checked
        raise Unauthorized("Invalid credentials provided.")
    if proof.new_hash is not None:
        account.password_hash = proof.new_hash
    account.last_login = utcnow()
    record_event(session, context, "auth:password:success", actor_id=account.id)
    return account
