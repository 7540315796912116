"""The errors of passkeys, each a kind of the domain error tree (``ostiary.errors``), which
``web.errors`` maps to HTTP. A refused answer to a challenge keeps its changes: the challenge it
consumed stays consumed although the request fails."""

from __future__ import annotations

from ostiary.errors import Audit, BadRequest, Conflict, Forbidden, InvalidParams, NotFound


class ChallengeInvalid(BadRequest):
    """The answer names no live challenge of this browser and purpose: unknown, expired, for
    another ceremony, or already used (a replayed answer)."""

    code = "passkey_challenge_invalid"
    keeps_changes = True

    def __init__(self, *, audit: Audit | None = None) -> None:
        super().__init__(
            "This passkey request expired or was already used. Please try again.", audit=audit
        )


class PasskeyRejected(Forbidden):
    """The authenticator's answer did not verify (signature, origin, relying party, user
    verification, or an unknown credential)."""

    code = "passkey_rejected"
    keeps_changes = True

    def __init__(self, message: str, *, audit: Audit | None = None) -> None:
        super().__init__(message, audit=audit)


class ClonedAuthenticator(PasskeyRejected):
    """A correctly signed answer whose signature count did not go up: two copies of the
    authenticator exist (WebAuthn L2 section 6.1.1)."""


class PasskeyNotFound(NotFound):
    """No passkey of this account has that id."""

    def __init__(self) -> None:
        super().__init__("passkey")


class PasskeyExists(Conflict):
    """The authenticator's credential is registered already."""

    def __init__(self) -> None:
        super().__init__("This passkey is registered already.")


class InvalidPasskeyName(InvalidParams):
    """A name that is empty, too long, or holds control characters."""

    def __init__(self, message: str) -> None:
        super().__init__("name", message)


class ReauthenticationRequired(Forbidden):
    """Registering a passkey needs the password (or a passkey) proved in the last minutes."""

    code = "reauthentication_required"

    def __init__(self) -> None:
        super().__init__("Confirm it is you (your password) before adding a passkey.")
