"""Password hashing with argon2id (argon2-cffi's RFC 9106 low-memory profile), run off the event
loop by a :class:`PasswordPool`.

One verification costs about 0.4 s of CPU spread over argon2's lanes. Run inline in an
``async def`` handler it stops every other request of the worker for that long, so servers hash
only through the pool: a few threads per worker at the lowest CPU priority (a flood of password
checks then takes the idle CPU, not the CPU of the requests being served), and a bounded queue
that refuses at once when it is full instead of growing without bound.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from ostiary.errors import PasswordChecksBusy

_hasher = PasswordHasher()
_LOWEST_PRIORITY = 19
T = TypeVar("T")


# Verified against when an email is unknown, so that a failed login costs the same time whether
# or not the account exists: timing does not reveal which emails are registered. A fixed hash
# (of this very text, with argon2-cffi's parameters) rather than one made at import: hashing
# allocates argon2's 64 MiB, which every worker's peak memory kept from its start (VmHWM 131 MB
# against 76 MB resident, docs/architecture.md). Verifying it costs what a real check costs; if
# argon2-cffi's parameters change (a check of its parameters, not a hash), one is made with them.
_DUMMY_PASSWORD = "ostiary-dummy-password-for-timing"  # noqa: S105 (nobody's password)
_FIXED_DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$BBkVB/Iefu4D6o3bwI9d0A$"
    "ZBz1JPBd34LVDvZ7l5CSzPYmI9gzRw0JU18J+xk0BJw"
)
_DUMMY_HASH = (
    _hasher.hash(_DUMMY_PASSWORD)
    if _hasher.check_needs_rehash(_FIXED_DUMMY_HASH)
    else _FIXED_DUMMY_HASH
)


def hash_password(password: str) -> str:
    """Hash a password with argon2id and a random salt (slow: servers use the pool)."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password against its hash in constant time; ``None`` verifies a dummy hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with older parameters and should be replaced."""
    return _hasher.check_needs_rehash(password_hash)


def _lower_priority() -> None:
    # On Linux a thread has its own nice value, and the threads argon2 starts for its lanes
    # inherit it. Elsewhere the pool still keeps the event loop free, at normal priority.
    with contextlib.suppress(AttributeError, OSError):
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), _LOWEST_PRIORITY)


class PasswordPool:
    """Runs argon2 in ``threads`` background threads; at most ``queue`` more checks wait.

    A check beyond that is refused with :class:`~ostiary.errors.PasswordChecksBusy` (429)
    before any work is done.
    """

    def __init__(self, *, threads: int, queue: int) -> None:
        self._executor = ThreadPoolExecutor(
            max_workers=threads, thread_name_prefix="argon2", initializer=_lower_priority
        )
        self._capacity = threads + queue
        self._in_use = 0

    async def _run(self, work: Callable[..., T], *args: object) -> T:
        if self._in_use >= self._capacity:
            raise PasswordChecksBusy
        self._in_use += 1  # only the event loop's thread counts, so no lock is needed
        try:
            return await asyncio.get_running_loop().run_in_executor(self._executor, work, *args)
        finally:
            self._in_use -= 1

    async def verify(self, password_hash: str | None, password: str) -> bool:
        """:func:`verify_password` off the event loop."""
        return await self._run(verify_password, password_hash, password)

    async def hash(self, password: str) -> str:
        """:func:`hash_password` off the event loop."""
        return await self._run(hash_password, password)

    @property
    def in_use(self) -> int:
        """Checks running or waiting now."""
        return self._in_use

    def close(self) -> None:
        """Stop the threads once the checks under way have finished."""
        self._executor.shutdown(wait=True)
