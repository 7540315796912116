"""What decides a second factor without storage: TOTP codes (RFC 6238: 30-second steps,
6 digits, HMAC-SHA-1, as every authenticator app expects), the drift allowed, replay, recovery
codes, and when a factor may be removed.

RFC 6238 section 5.2 recommends accepting at most one step of clock drift either way and never
the same code twice; NIST SP 800-63B section 5.1.4.2 asks the verifier to accept a given
time-based code only once. Both are :func:`accepted_step`.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Iterable
from datetime import datetime, timedelta

import pyotp

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1  # one step either way (RFC 6238 section 5.2)
RECOVERY_CODES = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i to misread
_RECOVERY_HALF = 5  # two groups of five: about 49 bits each code
ISSUER = "Ostiary"

# Wrong codes an account may get in a row, within a day, before its codes stop being checked
# (NIST SP 800-63B section 5.2.2 allows at most 100): the per-window throttle alone lets a
# holder of the password keep guessing day after day. An accepted code or a new password (the
# owner's, or a reset link's) starts the count again.
MAX_FAILURES_IN_A_ROW = 20
FAILURE_MEMORY = timedelta(hours=24)
FAILURE_ACTION = "auth:second-factor:failure"
COUNT_RESET_BY = ("auth:second-factor:success", "account:password:change", "account:password:reset")

TOTP = "totp"
RECOVERY_CODE = "recovery-code"
PASSKEY = "passkey"


def new_totp_secret() -> str:
    """A fresh base32 seed of 160 bits (RFC 4226 section 4 recommends 160)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, email: str, issuer: str = ISSUER) -> str:
    """The ``otpauth://totp/...`` URI an authenticator app scans (the QR code's content)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=issuer
    )


def time_step(now: datetime) -> int:
    """The RFC 6238 time-step counter of a moment (T0 = the Unix epoch, X = 30 s)."""
    return int(now.timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    """The code of one time-step (tests compute what an app would show)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def looks_like_totp(code: str) -> bool:
    """Whether a typed code has a TOTP code's shape (six digits, spaces ignored)."""
    typed = normalize(code)
    return len(typed) == DIGITS and typed.isdigit()


def normalize(code: str) -> str:
    """A typed code as compared: spaces and hyphens dropped, lower case."""
    return "".join(code.split()).replace("-", "").lower()


def accepted_step(secret: str, code: str, now: datetime, last_step: int | None) -> int | None:
    """The time-step whose code ``code`` is, within one step of ``now``, and later than
    ``last_step`` (the last one accepted); None when it is none of them. Every candidate is
    compared in constant time, so the timing tells nothing of which step matched."""
    typed = normalize(code)
    if not looks_like_totp(typed):
        return None
    current = time_step(now)
    found: int | None = None
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        fresh = last_step is None or step > last_step
        if hmac.compare_digest(code_at(secret, step), typed) and fresh and found is None:
            found = step
    return found


def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    """Fresh recovery codes, shown once: ``abcde-fghjk`` (two groups of five)."""

    def group() -> str:
        return "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_HALF))

    return [f"{group()}-{group()}" for _ in range(count)]


def recovery_code_key(code: str) -> str:
    """What the server's hasher hashes for a recovery code (typed form normalized)."""
    return f"recovery-code:{normalize(code)}"


def may_remove(factors: Iterable[str], kind: str, *, required: bool) -> bool:
    """Whether a factor of ``kind`` may be removed: always, unless the server requires a
    second factor and it is the account's last one."""
    remaining = [factor for factor in factors if factor != kind]
    return not required or bool(remaining)
