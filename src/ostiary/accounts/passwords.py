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

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import bindparam, select

from ostiary.accounts.errors import DISABLED_MESSAGE
from ostiary.accounts.models import Account
from ostiary.accounts.queries import normalize_email
from ostiary.db import Database
from ostiary.errors import Audit, PasswordChecksBusy, RateLimited, Unauthorized
from ostiary.events import RequestContext
from ostiary.security.address_limit import address_key
from ostiary.security.passwords import PasswordPool, needs_rehash
from ostiary.security.throttle import FailureThrottle
from ostiary.unit import Unit

PER_ADDRESS = 2  # password checks one address may have running or waiting in a worker
REFUSAL_DELAY = 1.0  # seconds a throttled attempt waits for its 429
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
    """Checks passwords for one server process.

    Each attempt is charged to the throttle before it is hashed and refunded when it succeeds
    (or is never tried), so concurrent guesses cannot outrun the budget while they wait for the
    pool; and one address may have at most :data:`PER_ADDRESS` checks running or waiting, so a
    single client cannot fill the pool that everyone signs in through.
    """

    def __init__(
        self,
        database: Database,
        pool: PasswordPool,
        throttle: FailureThrottle,
        *,
        refusal_delay: float = REFUSAL_DELAY,
    ) -> None:
        self._by_email = database.prepared(_BY_EMAIL)
        self._pool = pool
        self._throttle = throttle
        self._refusal_delay = refusal_delay
        self._in_flight: Counter[str] = Counter()

    async def login(self, context: RequestContext, email: str, password: str) -> ProvedPassword:
        """The account an email and password sign in to, or Unauthorized (429 when throttled).

        An unknown email costs the same argon2 verification as a known one.
        """
        subject = login_subject(email)
        row = None
        async with self._attempt(subject, context.ip) as verify:
            row = self._by_email.first(email=normalize_email(email))
            account_id, password_hash = row if row is not None else (None, None)
            proved = await verify(password_hash, password)
        if not proved:
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
        async with self._attempt(login_subject(account.email), context.ip) as verify:
            proved = bool(password) and await verify(account.password_hash, password)
        if not proved:
            raise Unauthorized(failure, audit=Audit(action, actor_id=account.id))
        return await self._proved(account.id, account.password_hash, password)

    async def new_hash(self, password: str) -> str:
        """A new password's hash (the caller validated the password)."""
        return await self._pool.hash(password)

    @contextlib.asynccontextmanager
    async def _attempt(
        self, subject: str, ip: str | None
    ) -> AsyncIterator[Callable[[str | None, str], Awaitable[bool]]]:
        """Charge the throttle, hold a slot of the address, and yield the verifier; a success
        (or a check that never ran) is refunded."""
        address = address_key(ip or "unknown")
        try:
            if self._in_flight[address] >= PER_ADDRESS:
                raise PasswordChecksBusy
            charge = self._throttle.charge(subject, ip)
        except RateLimited:
            # Refused without hashing, but not at once: a flooding client then spends its
            # connections waiting instead of making the server answer refusals as fast as it
            # can send them (docs/architecture.md, "Passwords": measured).
            await asyncio.sleep(self._refusal_delay)
            raise
        self._in_flight[address] += 1
        outcome: list[bool] = []

        async def verify(password_hash: str | None, password: str) -> bool:
            outcome.append(await self._pool.verify(password_hash, password))
            return outcome[-1]

        try:
            yield verify
        finally:
            self._in_flight[address] -= 1
            if self._in_flight[address] <= 0:
                del self._in_flight[address]
            if not outcome or outcome[-1]:
                self._throttle.refund(charge)

    async def _proved(
        self, account_id: str | None, password_hash: str | None, password: str
    ) -> ProvedPassword:
        assert account_id is not None
        assert password_hash is not None
        rehashed = None
        if needs_rehash(password_hash):
            # The upgrade can wait for a later sign-in when the pool is busy.
            with contextlib.suppress(PasswordChecksBusy):
                rehashed = await self._pool.hash(password)
        return ProvedPassword(account_id, rehashed)


def record_login(unit: Unit, proof: ProvedPassword) -> Account:
    """In the request's transaction: the proved account, its login time and event, and the
    hash upgraded when it was due."""
    account = unit.session.get(Account, proof.account_id)
    if account is None:  # deleted since the password was checked
        raise Unauthorized("Invalid credentials provided.")
    if account.disabled_at is not None:
        # Said only to whoever proved the password: to anyone else a disabled account answers
        # as a wrong password does (docs/account-recovery.md).
        raise Unauthorized(
            DISABLED_MESSAGE,
            audit=Audit(
                "auth:password:failure", actor_id=account.id, details={"reason": "disabled"}
            ),
        )
    if proof.new_hash is not None:
        account.password_hash = proof.new_hash
    account.last_login = unit.now()
    unit.record("auth:password:success", actor_id=account.id)
    return account
