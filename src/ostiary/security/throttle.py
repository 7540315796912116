"""Throttling repeated failed authentication (rule R23 of docs/oauth-server-rules.md; RFC 9700
section 4.11).

Each failure spends one unit of two budgets: its subject's (an account, named by its normalized
email, or a client id) and its address's. While a budget is spent, attempts are refused with 429
and ``Retry-After`` before any password or secret is checked. Budgets refill continuously over
the configured window, so nobody is locked out for longer than that window.

The lockout policy (docs/architecture.md, "Throttling"):

Addresses are counted as ``security.address_limit.address_key`` says: an IPv6 client's whole
/64 is one address, so it cannot hand itself a fresh "clean" address per guess.

- an address that spent its budget (many failures, against any subjects) is refused everywhere;
- a subject whose budget is spent refuses the addresses that failed against it within the
  window, but still lets an address with a clean record try: a user whose account someone else
  is guessing at can still sign in from their own address. An attacker spreading guesses over
  many addresses then gets one guess per address per window, each of which also spends that
  address's own budget.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from ostiary.errors import RateLimited, Unauthorized
from ostiary.metrics import THROTTLED_AUTHENTICATIONS
from ostiary.ratelimit import MemoryRateLimiter, RateLimiter
from ostiary.security.address_limit import address_key


@dataclass(frozen=True, slots=True)
class Charge:
    """What one :meth:`FailureThrottle.charge` spent, so that its refund gives back exactly
    that: an address with a clean record may try against a spent account, and its charge spends
    nothing of the account's; refunding a unit it never took would hand out a fresh guess."""

    subject: str
    ip: str | None
    subject_spent: bool
    address_spent: bool
    record_spent: bool


class FailureThrottle(ABC):
    """Counts failures per subject and per address, and refuses attempts as the module's policy
    says. Addresses get a larger budget: many people can share one (a NAT, an office).

    Two implementations keep the budgets: :class:`MemoryFailureThrottle` in one process, and
    ``security.shared_throttle.RedisFailureThrottle`` for every worker and node."""

    @abstractmethod
    def check(self, subject: str, ip: str | None) -> None:
        """Refuse (429) when the address has no budget left, or the subject has none and the
        address failed against it recently."""

    @abstractmethod
    def failed(self, subject: str, ip: str | None) -> None:
        """Spend one unit of the subject's and the address's budgets."""

    @abstractmethod
    def charge(self, subject: str, ip: str | None) -> Charge:
        """Check, then count the attempt as a failure before it is tried, in one step: a check
        that awaits (a password hashed in the pool) cannot let concurrent attempts outrun the
        budget. :meth:`refund` gives it back when the attempt succeeds or is never tried."""

    @abstractmethod
    def refund(self, charge: Charge) -> None:
        """Give back what ``charge`` spent, and nothing more."""

    @contextmanager
    def guard(self, subject: str, ip: str | None) -> Iterator[None]:
        """Check first; count an Unauthorized raised inside as a failure."""
        self.check(subject, ip)
        try:
            yield
        except Unauthorized:
            self.failed(subject, ip)
            raise


class MemoryFailureThrottle(FailureThrottle):
    """The budgets in this process's memory: exact for one process, one set per worker."""

    def __init__(
        self,
        limit: int,
        window_seconds: int,
        ip_limit: int,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        per_window = 60 / window_seconds
        self._subjects: RateLimiter = MemoryRateLimiter(limit, limit * per_window, clock)
        self._addresses: RateLimiter = MemoryRateLimiter(ip_limit, ip_limit * per_window, clock)
        # One unit per (subject, address), returned a window after the pair's last failure: an
        # empty pool means "this address failed against this subject within the window".
        self._records: RateLimiter = MemoryRateLimiter(1, per_window, clock)

    def check(self, subject: str, ip: str | None) -> None:
        """Refuse (429) as the module's policy says."""
        ip = address_key(ip) if ip else None
        if ip and self._addresses.remaining(ip) == 0:
            THROTTLED_AUTHENTICATIONS.inc()
            raise RateLimited(max(1, self._addresses.retry_after(ip)))
        if self._subjects.remaining(subject) > 0:
            return
        record = f"{subject}\n{ip}"
        if ip and self._records.remaining(record) > 0:
            return  # a clean record: this address may still try
        wait = self._subjects.retry_after(subject)
        if ip:
            wait = min(wait, self._records.retry_after(record))
        THROTTLED_AUTHENTICATIONS.inc()
        raise RateLimited(max(1, wait))

    def failed(self, subject: str, ip: str | None) -> None:
        """Spend one unit of the subject's and the address's budgets."""
        self._subjects.hit(subject)
        if ip:
            ip = address_key(ip)
            self._addresses.hit(ip)
            self._records.hit(f"{subject}\n{ip}")

    def charge(self, subject: str, ip: str | None) -> Charge:
        """Check, then count the attempt as a failure before it is tried."""
        self.check(subject, ip)
        subject_spent = self._subjects.hit(subject).allowed
        if not ip:
            return Charge(subject, None, subject_spent, False, False)
        ip = address_key(ip)
        return Charge(
            subject,
            ip,
            subject_spent,
            self._addresses.hit(ip).allowed,
            self._records.hit(f"{subject}\n{ip}").allowed,
        )

    def refund(self, charge: Charge) -> None:
        """Give back what ``charge`` spent."""
        if charge.subject_spent:
            self._subjects.refund(charge.subject)
        if charge.ip is not None:
            if charge.address_spent:
                self._addresses.refund(charge.ip)
            if charge.record_spent:
                self._records.refund(f"{charge.subject}\n{charge.ip}")
