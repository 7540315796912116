"""Changes to second factors: enrolling and confirming TOTP, accepting a code (throttled, each
code once), recovery codes, and removal. Services take the request's unit and never commit.

The TOTP seed is sealed with a key the server's hasher derives by HKDF for this purpose only
(``security.sealing``), bound to the account id; recovery codes are stored as the hasher's keyed
hashes. No code, seed or recovery code ever goes into an event.
"""

from __future__ import annotations

from sqlalchemy import delete, select

from ostiary.passkeys.services import remove_all as remove_all_passkeys
from ostiary.second_factors.errors import (
    AlreadyEnrolled,
    CodesLocked,
    LastFactorRequired,
    NotEnrolled,
    WrongCode,
)
from ostiary.second_factors.models import RecoveryCode, TotpFactor
from ostiary.second_factors.queries import (
    enrolled_factors,
    failures_in_a_row,
    recovery_codes_left,
    totp_factor,
)
from ostiary.second_factors.records import AcceptedCode, TotpEnrolment
from ostiary.second_factors.rules import (
    FAILURE_MEMORY,
    MAX_FAILURES_IN_A_ROW,
    PASSKEY,
    RECOVERY_CODE,
    TOTP,
    accepted_step,
    looks_like_totp,
    may_remove,
    new_recovery_codes,
    new_totp_secret,
    provisioning_uri,
    recovery_code_key,
)
from ostiary.security.sealing import Sealer
from ostiary.security.throttle import FailureThrottle
from ostiary.unit import Unit

SEAL_PURPOSE = "totp-secret"


def _sealer(unit: Unit) -> Sealer:
    return unit.hasher.sealer(SEAL_PURPOSE)


def throttle_subject(account_id: str) -> str:
    """The failure throttle's key for an account's second-factor codes."""
    return f"second-factor:{account_id}"


def start_totp(unit: Unit, account_id: str, email: str) -> TotpEnrolment:
    """A pending TOTP factor for the account (the one already pending, if any, so a page
    reloaded mid-enrolment shows the same seed); AlreadyEnrolled once one is confirmed."""
    factor = totp_factor(unit.session, account_id, for_update=True)
    if factor is not None and factor.confirmed_at is not None:
        raise AlreadyEnrolled
    if factor is None:
        secret = new_totp_secret()
        factor = TotpFactor(
            account_id=account_id, sealed_secret=_sealer(unit).seal(secret, bound_to=account_id)
        )
        unit.session.add(factor)
        unit.session.flush()
    else:
        secret = _sealer(unit).open(factor.sealed_secret, bound_to=account_id)
    return TotpEnrolment(secret=secret, uri=provisioning_uri(secret, email))


def confirm_totp(unit: Unit, account_id: str, code: str) -> list[str]:
    """Confirm the pending factor with a current code; the new recovery codes (plaintext, to
    show once). A wrong code raises WrongCode and leaves the factor pending."""
    factor = totp_factor(unit.session, account_id, for_update=True)
    if factor is None:
        raise NotEnrolled
    if factor.confirmed_at is not None:
        raise AlreadyEnrolled
    secret = _sealer(unit).open(factor.sealed_secret, bound_to=account_id)
    step = accepted_step(secret, code, unit.now(), factor.last_step)
    if step is None:
        raise WrongCode(TOTP, account_id)
    factor.confirmed_at = unit.now()
    factor.last_step = step
    unit.record(
        "account:second-factor:add",
        actor_id=account_id,
        target_type="account",
        target_id=account_id,
        details={"kind": TOTP},
    )
    return _new_recovery_codes(unit, account_id)


def _new_recovery_codes(unit: Unit, account_id: str) -> list[str]:
    unit.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account_id))
    codes = new_recovery_codes()
    unit.session.add_all(
        RecoveryCode(account_id=account_id, code_hash=unit.hasher.hash(recovery_code_key(code)))
        for code in codes
    )
    unit.session.flush()
    return codes


def regenerate_recovery_codes(unit: Unit, account_id: str) -> list[str]:
    """A new set of recovery codes (the old set stops working); the caller confirmed the
    visitor's identity recently. NotEnrolled without a second factor."""
    if not enrolled_factors(unit.session, account_id):
        raise NotEnrolled
    codes = _new_recovery_codes(unit, account_id)
    unit.record(
        "account:recovery-codes:regenerate",
        actor_id=account_id,
        target_type="account",
        target_id=account_id,
    )
    return codes


def check_code(
    unit: Unit,
    throttle: FailureThrottle,
    account_id: str,
    code: str,
    *,
    recovery: bool = True,
) -> AcceptedCode:
    """Accept a second-factor code of the account: a TOTP code (once, within one step of
    drift), or with ``recovery`` a recovery code (once). Charged to the failure throttle
    before it is checked, per account and address as passwords are, and refunded when right;
    RateLimited (429) once the budget is spent, CodesLocked (429) after
    :data:`~ostiary.second_factors.rules.MAX_FAILURES_IN_A_ROW` wrong codes in a row, WrongCode
    when it is not right."""
    since = unit.now() - FAILURE_MEMORY
    if failures_in_a_row(unit.session, account_id, since=since) >= MAX_FAILURES_IN_A_ROW:
        raise CodesLocked
    charge = throttle.charge(throttle_subject(account_id), unit.context.ip)
    accepted = _accept(unit, account_id, code, recovery=recovery)
    throttle.refund(charge)
    return accepted


def _accept(unit: Unit, account_id: str, code: str, *, recovery: bool) -> AcceptedCode:
    if looks_like_totp(code):
        factor = totp_factor(unit.session, account_id, for_update=True)
        if factor is not None and factor.confirmed_at is not None:
            secret = _sealer(unit).open(factor.sealed_secret, bound_to=account_id)
            step = accepted_step(secret, code, unit.now(), factor.last_step)
            if step is not None:
                factor.last_step = step
                _succeeded(unit, account_id, TOTP)
                return AcceptedCode(TOTP)
        raise WrongCode(TOTP, account_id)
    if not recovery:
        raise WrongCode(RECOVERY_CODE, account_id)
    row = unit.session.scalar(
        select(RecoveryCode)
        .where(
            RecoveryCode.account_id == account_id,
            RecoveryCode.code_hash == unit.hasher.hash(recovery_code_key(code)),
            RecoveryCode.used_at.is_(None),
        )
        .with_for_update()
    )
    if row is None or not enrolled_factors(unit.session, account_id):
        raise WrongCode(RECOVERY_CODE, account_id)
    row.used_at = unit.now()
    unit.session.flush()
    remaining = recovery_codes_left(unit.session, account_id)
    _succeeded(unit, account_id, RECOVERY_CODE)
    unit.record(
        "account:recovery-codes:use",
        actor_id=account_id,
        target_type="account",
        target_id=account_id,
        details={"remaining": remaining},
    )
    return AcceptedCode(RECOVERY_CODE, remaining)


def _succeeded(unit: Unit, account_id: str, kind: str) -> None:
    unit.record(
        "auth:second-factor:success",
        actor_id=account_id,
        target_type="account",
        target_id=account_id,
        details={"kind": kind},
    )


def remove_totp(unit: Unit, account_id: str, *, required: bool, by: str = "owner") -> None:
    """Remove the account's TOTP factor (the caller proved the password and a current code);
    LastFactorRequired when the server requires a second factor and it is the last. Recovery
    codes go too once no factor is left."""
    factor = totp_factor(unit.session, account_id, for_update=True)
    if factor is None or factor.confirmed_at is None:
        raise NotEnrolled
    factors = enrolled_factors(unit.session, account_id)
    if not may_remove(factors, TOTP, required=required):
        raise LastFactorRequired
    unit.session.delete(factor)
    unit.session.flush()
    drop_unguarded_recovery_codes(unit, account_id)
    _removed(unit, account_id, TOTP, by)


def drop_unguarded_recovery_codes(unit: Unit, account_id: str) -> None:
    """Once the account's last factor is gone (TOTP turned off, the last passkey removed), its
    recovery codes go too: kept, they would come back to life with the next factor enrolled."""
    unit.session.flush()
    if not enrolled_factors(unit.session, account_id):
        unit.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account_id))


def _removed(unit: Unit, account_id: str, kind: str, by: str) -> None:
    unit.record(
        "account:second-factor:remove",
        actor_id=account_id if by == "owner" else None,
        target_type="account",
        target_id=account_id,
        details={"kind": kind, "by": by},
    )


def remove_all_factors(unit: Unit, account_id: str) -> frozenset[str]:
    """Remove every second factor of the account and its recovery codes, for an administrator
    helping a locked-out user (``ostiary accounts remove-2fa``); each removal recorded with
    ``by: administrator``. The kinds removed (empty when there were none): passkeys too."""
    removed: set[str] = set()
    factor = totp_factor(unit.session, account_id, for_update=True)
    if factor is not None:
        if factor.confirmed_at is not None:
            removed.add(TOTP)
        unit.session.delete(factor)
    if remove_all_passkeys(unit, account_id):
        removed.add(PASSKEY)
    unit.session.execute(delete(RecoveryCode).where(RecoveryCode.account_id == account_id))
    unit.session.flush()
    for kind in sorted(removed):
        _removed(unit, account_id, kind, "administrator")
    return frozenset(removed)
