"""The errors of second factors, each a kind of the domain error tree (``ostiary.errors``),
which ``web.errors`` maps to HTTP."""

from __future__ import annotations

from ostiary.errors import Audit, Conflict, Forbidden, NotFound, RateLimited, Unauthorized

TWO_FACTOR_MESSAGE = (
    "A second authentication factor or pre-authorization is required for login for this account."
)


class SecondFactorRequired(Forbidden):
    """403 ``two_factor``, as Heroku answers a password login without a valid
    ``Heroku-Two-Factor-Code`` (with ``Heroku-Two-Factor-Required: true``)."""

    code = "two_factor"

    def __init__(self, *, audit: Audit | None = None) -> None:
        super().__init__(TWO_FACTOR_MESSAGE, audit=audit)


class EnrollmentRequired(Forbidden):
    """403 ``two_factor_enrollment_required``: the server requires a second factor
    (``OSTIARY_REQUIRE_2FA``) and the account has none yet."""

    code = "two_factor_enrollment_required"

    def __init__(self, enrol_url: str) -> None:
        super().__init__(
            "This server requires a second factor: enrol one at "
            f"{enrol_url} (sign in there with your password), then log in again."
        )
        self.enrol_url = enrol_url


class WrongCode(Unauthorized):
    """A TOTP or recovery code that is wrong, used already, or out of its window."""

    def __init__(self, kind: str, actor_id: str | None) -> None:
        super().__init__(
            "That code is not right (or was used already).",
            audit=Audit("auth:second-factor:failure", actor_id=actor_id, details={"kind": kind}),
        )


class AlreadyEnrolled(Conflict):
    """The account has a confirmed TOTP factor already: remove it before enrolling again."""

    def __init__(self) -> None:
        super().__init__("An authenticator app is set up already; remove it first.")


class NotEnrolled(NotFound):
    """The account has no such factor (or its enrolment expired)."""

    def __init__(self, what: str = "second_factor") -> None:
        super().__init__(what, "No authenticator app is set up for this account.")


class LastFactorRequired(Forbidden):
    """Removing the account's last second factor while the server requires one."""

    def __init__(self) -> None:
        super().__init__(
            "This server requires a second factor: add another before removing this one."
        )


class CodesLocked(RateLimited):
    """Too many wrong codes in a row: the account's codes are not checked for a while."""

    def __init__(self) -> None:
        super().__init__(3600)
        self.message = (
            "Too many wrong second-factor codes in a row: this account's codes are not "
            "checked for up to a day. A new password (Forgot password?) or the server's "
            "administrator unlocks it sooner."
        )
