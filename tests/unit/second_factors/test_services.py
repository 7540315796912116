"""The second-factor services on a migrated database: a pending factor until confirmed, the
seed sealed at rest, recovery codes as hashes (each once, regenerating voids the old set), the
throttle charged for wrong codes only, and removal by the owner or an administrator."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import select

from ostiary.clock import utcnow
from ostiary.errors import RateLimited
from ostiary.events import Event, RequestContext, record_audit
from ostiary.second_factors.errors import (
    AlreadyEnrolled,
    CodesLocked,
    LastFactorRequired,
    NotEnrolled,
    WrongCode,
)
from ostiary.second_factors.models import RecoveryCode, TotpFactor
from ostiary.second_factors.queries import enrolled_factors, recovery_codes_left
from ostiary.second_factors.rules import MAX_FAILURES_IN_A_ROW, code_at, time_step
from ostiary.second_factors.services import (
    check_code,
    confirm_totp,
    regenerate_recovery_codes,
    remove_all_factors,
    remove_totp,
    start_totp,
)
from ostiary.security.sealing import UnreadableSeal
from ostiary.security.throttle import MemoryFailureThrottle
from tests.support.factories import Factory, UserAccount
from tests.support.second_factors import enrol_totp


@pytest.fixture
def account(factory: Factory) -> UserAccount:
    return factory.account("second-factor")


@pytest.fixture
def throttle() -> MemoryFailureThrottle:
    return MemoryFailureThrottle(limit=3, window_seconds=300, ip_limit=100)


def test_a_factor_is_pending_until_a_current_code_confirms_it(
    factory: Factory, account: UserAccount
) -> None:
    with factory.database.unit_of_work(write=True) as session:
        unit = factory.unit(session)
        enrolment = start_totp(unit, account.id, account.email)
        assert start_totp(unit, account.id, account.email).secret == enrolment.secret  # reload
        assert enrolled_factors(session, account.id) == frozenset()
        with pytest.raises(WrongCode):
            confirm_totp(unit, account.id, "000000")
        codes = confirm_totp(unit, account.id, code_at(enrolment.secret, time_step(unit.now())))
        assert enrolled_factors(session, account.id) == frozenset({"totp"})
        assert len(codes) == 10
        with pytest.raises(AlreadyEnrolled):
            start_totp(unit, account.id, account.email)
        stored = session.scalar(select(TotpFactor.sealed_secret))
        hashes = session.scalars(select(RecoveryCode.code_hash)).all()
    assert stored is not None
    assert enrolment.secret not in stored
    assert not set(codes) & set(hashes)
    assert all(len(value) == 64 for value in hashes)  # HMAC-SHA256, hex


def test_a_code_is_accepted_once_and_the_throttle_is_refunded(
    factory: Factory, account: UserAccount, throttle: MemoryFailureThrottle
) -> None:
    enrolled = enrol_totp(factory, account)
    with factory.database.unit_of_work(write=True) as session:
        accepted = check_code(factory.unit(session), throttle, account.id, enrolled.code())
    assert accepted.kind == "totp"
    # The right code was refunded: three replays (wrong) spend the budget of three, not two.
    for _ in range(3):
        with factory.database.unit_of_work(write=True) as session, pytest.raises(WrongCode):
            check_code(factory.unit(session), throttle, account.id, enrolled.code())
    with factory.database.unit_of_work(write=True) as session, pytest.raises(RateLimited):
        check_code(factory.unit(session), throttle, account.id, enrolled.code(1))


def test_a_recovery_code_works_once_and_only_where_allowed(
    factory: Factory, account: UserAccount, throttle: MemoryFailureThrottle
) -> None:
    enrolled = enrol_totp(factory, account)
    code = enrolled.recovery_codes[3]
    with factory.database.unit_of_work(write=True) as session:
        unit = factory.unit(session)
        with pytest.raises(WrongCode):
            check_code(unit, throttle, account.id, code, recovery=False)
    with factory.database.unit_of_work(write=True) as session:
        unit = factory.unit(session)
        accepted = check_code(unit, throttle, account.id, f"  {code.upper()} ")
        assert (accepted.kind, accepted.remaining) == ("recovery-code", 9)
        assert recovery_codes_left(session, account.id) == 9
    with factory.database.unit_of_work(write=True) as session, pytest.raises(WrongCode):
        check_code(factory.unit(session), throttle, account.id, code)


def test_regenerating_voids_the_old_set(factory: Factory, account: UserAccount) -> None:
    enrolled = enrol_totp(factory, account)
    throttle = MemoryFailureThrottle(limit=10, window_seconds=300, ip_limit=100)
    with factory.database.unit_of_work(write=True) as session:
        fresh = regenerate_recovery_codes(factory.unit(session), account.id)
    assert not set(fresh) & set(enrolled.recovery_codes)
    with factory.database.unit_of_work(write=True) as session, pytest.raises(WrongCode):
        check_code(factory.unit(session), throttle, account.id, enrolled.recovery_codes[0])
    with factory.database.unit_of_work(write=True) as session:
        assert check_code(factory.unit(session), throttle, account.id, fresh[0]).remaining == 9


def test_without_a_factor_there_is_nothing_to_regenerate_or_remove(
    factory: Factory, account: UserAccount
) -> None:
    with factory.database.unit_of_work(write=True) as session:
        unit = factory.unit(session)
        with pytest.raises(NotEnrolled):
            regenerate_recovery_codes(unit, account.id)
        with pytest.raises(NotEnrolled):
            remove_totp(unit, account.id, required=False)
        assert remove_all_factors(unit, account.id) == frozenset()


def test_the_last_factor_stays_when_required_and_goes_otherwise(
    factory: Factory, account: UserAccount
) -> None:
    enrol_totp(factory, account)
    with (
        factory.database.unit_of_work(write=True) as session,
        pytest.raises(LastFactorRequired),
    ):
        remove_totp(factory.unit(session), account.id, required=True)
    with factory.database.unit_of_work(write=True) as session:
        remove_totp(factory.unit(session), account.id, required=False)
        assert enrolled_factors(session, account.id) == frozenset()
        assert recovery_codes_left(session, account.id) == 0
        removed = session.scalars(
            select(Event.details).where(Event.action == "account:second-factor:remove")
        ).all()
    assert removed == [{"kind": "totp", "by": "owner"}]


def test_an_administrator_removes_everything(factory: Factory, account: UserAccount) -> None:
    enrol_totp(factory, account)
    with factory.database.unit_of_work(write=True) as session:
        assert remove_all_factors(factory.unit(session), account.id) == frozenset({"totp"})
        assert session.scalars(select(RecoveryCode)).all() == []
        event = session.scalars(
            select(Event).where(Event.action == "account:second-factor:remove")
        ).one()
    assert event.details == {"kind": "totp", "by": "administrator"}
    assert event.actor_id is None


def test_a_seed_sealed_for_another_account_does_not_open(
    factory: Factory, account: UserAccount
) -> None:
    """A seed copied from one account's row onto another's is refused, not used."""
    other = factory.account("other")
    enrol_totp(factory, account)
    with factory.database.unit_of_work(write=True) as session:
        unit = replace(factory.unit(session), clock=lambda: utcnow() - timedelta(seconds=60))
        start_totp(unit, other.id, other.email)
        mine = session.get(TotpFactor, account.id)
        theirs = session.get(TotpFactor, other.id)
        assert mine is not None
        assert theirs is not None
        theirs.sealed_secret = mine.sealed_secret
        session.flush()
        with pytest.raises(UnreadableSeal):
            start_totp(unit, other.id, other.email)


def _wrong_code(factory: Factory, account: UserAccount, throttle: MemoryFailureThrottle) -> None:
    """A wrong code, its failure kept as the HTTP layer keeps it: in a transaction of its own
    after the request's rolled back."""
    with factory.database.unit_of_work(write=True) as session:
        try:
            check_code(factory.unit(session), throttle, account.id, "000001")
        except WrongCode as error:
            failure = error.audit
        else:  # pragma: no cover - the code is wrong
            raise AssertionError("a wrong code was accepted")
    assert failure is not None
    with factory.database.unit_of_work(write=True) as session:
        record_audit(session, RequestContext(ip="192.0.2.9"), failure)


def test_after_too_many_wrong_codes_in_a_row_no_code_is_checked(
    factory: Factory, account: UserAccount
) -> None:
    """The holder of the password, guessing from ever new addresses (the per-window throttle
    would let each guess a little), is stopped after MAX_FAILURES_IN_A_ROW wrong codes: even
    the right code and a recovery code are refused, until a new password starts the count
    again (NIST SP 800-63B section 5.2.2)."""
    enrolled = enrol_totp(factory, account)
    roomy = MemoryFailureThrottle(limit=1000, window_seconds=300, ip_limit=1000)
    for _ in range(MAX_FAILURES_IN_A_ROW):
        _wrong_code(factory, account, roomy)
    for code in (enrolled.code(), enrolled.recovery_codes[0]):
        with factory.database.unit_of_work(write=True) as session, pytest.raises(CodesLocked):
            check_code(factory.unit(session), roomy, account.id, code)
    with factory.database.unit_of_work(write=True) as session:
        factory.unit(session).record("account:password:reset", actor_id=account.id)
    with factory.database.unit_of_work(write=True) as session:
        assert check_code(factory.unit(session), roomy, account.id, enrolled.code()).kind == "totp"


def test_an_accepted_code_starts_the_count_again(factory: Factory, account: UserAccount) -> None:
    enrolled = enrol_totp(factory, account)
    roomy = MemoryFailureThrottle(limit=1000, window_seconds=300, ip_limit=1000)
    for _ in range(MAX_FAILURES_IN_A_ROW - 1):
        _wrong_code(factory, account, roomy)
    with factory.database.unit_of_work(write=True) as session:
        check_code(factory.unit(session), roomy, account.id, enrolled.recovery_codes[1])
    for _ in range(MAX_FAILURES_IN_A_ROW - 1):
        _wrong_code(factory, account, roomy)
    with factory.database.unit_of_work(write=True) as session:
        assert check_code(factory.unit(session), roomy, account.id, enrolled.code()).kind == "totp"
