"""Second factors for tests: enrol an account's TOTP in the server's database, as the
dashboard would, and compute the codes an authenticator app would show."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import timedelta

from ostiary.clock import utcnow
from ostiary.second_factors.rules import code_at, time_step
from ostiary.second_factors.services import confirm_totp, start_totp
from tests.support.factories import Factory, UserAccount


@dataclass(frozen=True)
class Enrolled:
    """An account's TOTP seed and its recovery codes (plaintext, as shown once)."""

    secret: str
    recovery_codes: list[str]

    def code(self, offset: int = 0) -> str:
        """The code of the current time-step (``offset`` steps later or earlier)."""
        return code_at(self.secret, time_step(utcnow()) + offset)


def enrol_totp(factory: Factory, account: UserAccount) -> Enrolled:
    """Enrol and confirm a TOTP factor for the account. Confirmed with the code of two steps
    ago (by a clock a minute behind), so the current step's code is still unused."""
    with factory.database.unit_of_work(write=True) as session:
        unit = replace(factory.unit(session), clock=lambda: utcnow() - timedelta(seconds=60))
        enrolment = start_totp(unit, account.id, account.email)
        codes = confirm_totp(unit, account.id, code_at(enrolment.secret, time_step(unit.now())))
    return Enrolled(enrolment.secret, codes)
