"""Changes to passkeys: the two WebAuthn ceremonies (registration, WebAuthn L2 section 7.1;
authentication, section 7.2) on py_webauthn, renaming and removing. Services take the request's
:class:`~ostiary.unit.Unit` and never commit.

Each ceremony starts with :func:`start_registration` or :func:`start_assertion`, which store a
fresh challenge bound to the asking browser (``passkeys.challenges``) and return the options for
``navigator.credentials.create()`` / ``.get()`` as JSON; the browser's answer goes to
:func:`finish_registration` or :func:`finish_assertion`, which consume that challenge first, so
an answer is accepted once (a replay finds no challenge) and a refused answer still uses it up.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, select

from ostiary.accounts.models import Account
from ostiary.errors import Audit
from ostiary.passkeys.challenges import consume_challenge, store_challenge
from ostiary.passkeys.errors import (
    ClonedAuthenticator,
    PasskeyExists,
    PasskeyRejected,
)
from ostiary.passkeys.models import Passkey
from ostiary.passkeys.queries import by_credential_id, find_passkey, passkeys_of
from ostiary.passkeys.records import RelyingParty, VerifiedPasskey
from ostiary.passkeys.rules import (
    CHALLENGE_LIFETIME,
    b64url,
    b64url_decode,
    passkey_name,
    sign_count_advanced,
    transports_of,
    user_handle_matches,
)
from ostiary.unit import Unit

# py_webauthn is imported by the ceremonies that use it: a worker that never sees a passkey
# does not load it (7 MB and 117 modules a worker).
if TYPE_CHECKING:
    from webauthn.helpers.structs import PublicKeyCredentialDescriptor


def _malformed() -> tuple[type[Exception], ...]:
    """What a malformed answer can raise inside py_webauthn besides its own errors (base64,
    CBOR and JSON decoding, missing keys): all mean "this answer does not verify", never a
    server error."""
    from webauthn.helpers.exceptions import WebAuthnException

    return (WebAuthnException, ValueError, TypeError, KeyError, IndexError, OverflowError)


TIMEOUT_MS = int(CHALLENGE_LIFETIME.total_seconds() * 1000)

# The events of a verified (and of a refused) assertion, by the ceremony's purpose.
_OUTCOMES: dict[str, tuple[str, str, dict[str, object]]] = {
    "sign-in": ("auth:passkey:success", "auth:passkey:failure", {}),
    "second-factor": (
        "auth:second-factor:success",
        "auth:second-factor:failure",
        {"kind": "passkey"},
    ),
    "reauthenticate": (
        "auth:reauthentication:success",
        "auth:reauthentication:failure",
        {"kind": "passkey"},
    ),
}


def start_registration(unit: Unit, rp: RelyingParty, account: Account, *, browser: str) -> str:
    """Options for ``navigator.credentials.create()``: a discoverable credential with user
    verification (so it can sign in alone), none of the account's authenticators again."""
    from webauthn import generate_registration_options, options_to_json
    from webauthn.helpers.structs import (
        AuthenticatorSelectionCriteria,
        ResidentKeyRequirement,
        UserVerificationRequirement,
    )

    challenge = store_challenge(unit, purpose="register", browser=browser, account_id=account.id)
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=rp.name,
        # The user handle is the account's id: no personal data (WebAuthn L2 section 14.6.1).
        user_id=account.id.encode(),
        user_name=account.email,
        user_display_name=account.name or account.email,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED,
            user_verification=UserVerificationRequirement.REQUIRED,
        ),
        exclude_credentials=_descriptors(passkeys_of(unit.session, account.id)),
    )
    return options_to_json(options)


def finish_registration(
    unit: Unit,
    rp: RelyingParty,
    account: Account,
    credential: dict[str, Any],
    *,
    name: str,
    browser: str,
) -> Passkey:
    """Verify the authenticator's answer (origin, RP id, user present and verified, WebAuthn L2
    section 7.1) and store its credential under ``name``."""
    # Before the challenge is consumed: a first import holds nothing the other requests wait for.
    from webauthn import verify_registration_response

    stored_name = passkey_name(name)
    audit = Audit(
        "account:passkey:failure",
        actor_id=account.id,
        target_type="account",
        target_id=account.id,
        details={"kind": "passkey"},
    )
    challenge = consume_challenge(
        unit, credential, purpose="register", browser=browser, account_id=account.id, audit=audit
    )
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            require_user_verification=True,
        )
    except _malformed():
        raise PasskeyRejected(
            "The passkey could not be registered: its answer did not verify.", audit=audit
        ) from None
    credential_id = b64url(verified.credential_id)
    if unit.session.scalar(select(Passkey.id).where(Passkey.credential_id == credential_id)):
        raise PasskeyExists
    passkey = Passkey(
        account_id=account.id,
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        transports=transports_of(credential),
        name=stored_name,
        created_at=unit.now(),
    )
    unit.session.add(passkey)
    unit.session.flush()
    unit.record(
        "account:second-factor:add",
        actor_id=account.id,
        target_type="account",
        target_id=account.id,
        details={"kind": "passkey", "passkey_id": passkey.id, "name": passkey.name},
    )
    return passkey


def start_assertion(
    unit: Unit, rp: RelyingParty, *, purpose: str, browser: str, account_id: str | None = None
) -> str:
    """Options for ``navigator.credentials.get()``. Without an account (a passwordless sign-in)
    no credential is listed: the authenticator offers its discoverable ones. A passwordless
    sign-in or a re-authentication requires user verification, the passkey then being two
    factors at once (NIST SP 800-63B section 5.1.8, multi-factor cryptographic device); as the
    second factor after the password, user presence is enough."""
    from webauthn import generate_authentication_options, options_to_json
    from webauthn.helpers.structs import UserVerificationRequirement

    challenge = store_challenge(unit, purpose=purpose, browser=browser, account_id=account_id)
    allowed = passkeys_of(unit.session, account_id) if account_id else []
    options = generate_authentication_options(
        rp_id=rp.id,
        challenge=challenge,
        timeout=TIMEOUT_MS,
        allow_credentials=_descriptors(allowed),
        user_verification=(
            UserVerificationRequirement.PREFERRED
            if purpose == "second-factor"
            else UserVerificationRequirement.REQUIRED
        ),
    )
    return options_to_json(options)


def finish_assertion(
    unit: Unit,
    rp: RelyingParty,
    credential: dict[str, Any],
    *,
    purpose: str,
    browser: str,
    account_id: str | None = None,
) -> VerifiedPasskey:
    """Verify an assertion (WebAuthn L2 section 7.2): a live challenge of this browser, a
    credential registered here (the account's, when one is given, and the one its user handle
    names), the exact origin and RP id,
    the signature, user verification where :func:`start_assertion` required it, and a signature
    counter that went up. Records the purpose's success event; refusals carry its failure."""
    # Before the challenge is consumed: a first import holds nothing the other requests wait for.
    from webauthn import verify_authentication_response

    success, failure, details = _OUTCOMES[purpose]

    def refused(reason: str, actor: str | None = account_id) -> Audit:
        return Audit(failure, actor_id=actor, details={**details, "reason": reason})

    challenge = consume_challenge(
        unit,
        credential,
        purpose=purpose,
        browser=browser,
        account_id=account_id,
        audit=refused("challenge"),
    )
    raw_id = credential.get("rawId")
    passkey = by_credential_id(unit.session, raw_id) if isinstance(raw_id, str) else None
    if (
        passkey is None
        or (account_id is not None and passkey.account_id != account_id)
        or not user_handle_matches(credential, passkey.account_id)
    ):
        raise PasskeyRejected(
            "This passkey is not registered for an account here.", audit=refused("unknown")
        )
    try:
        # The counter is compared below, once the signature is known to be good: a refused
        # counter then means a cloned authenticator, not a forged answer.
        verified = verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origin,
            credential_public_key=passkey.public_key,
            credential_current_sign_count=0,
            require_user_verification=purpose != "second-factor",
        )
    except _malformed():
        raise PasskeyRejected(
            "The passkey's answer did not verify.", audit=refused("invalid", passkey.account_id)
        ) from None
    if not sign_count_advanced(passkey.sign_count, verified.new_sign_count):
        raise ClonedAuthenticator(
            "This passkey's signature counter went back: it may have been copied. Remove it "
            "and register a new one.",
            audit=refused("sign-count", passkey.account_id),
        )
    passkey.sign_count = verified.new_sign_count
    passkey.last_used_at = unit.now()
    unit.record(
        success,
        actor_id=passkey.account_id,
        target_type="passkey",
        target_id=passkey.id,
        details=dict(details),
    )
    return VerifiedPasskey(passkey_id=passkey.id, account_id=passkey.account_id, name=passkey.name)


def rename(unit: Unit, account_id: str, passkey_id: str, name: str) -> Passkey:
    """Give one of the account's passkeys a new name."""
    passkey = find_passkey(unit.session, account_id, passkey_id, for_update=True)
    passkey.name = passkey_name(name)
    unit.record(
        "account:passkey:rename",
        actor_id=account_id,
        target_type="passkey",
        target_id=passkey.id,
        details={"name": passkey.name},
    )
    return passkey


def remove(unit: Unit, account_id: str, passkey_id: str, *, by: str = "owner") -> None:
    """Remove one of the account's passkeys: it signs nobody in from now on."""
    passkey = find_passkey(unit.session, account_id, passkey_id, for_update=True)
    unit.session.delete(passkey)
    unit.session.flush()
    unit.record(
        "account:second-factor:remove",
        actor_id=account_id if by == "owner" else None,
        target_type="account",
        target_id=account_id,
        details={"kind": "passkey", "by": by, "passkey_id": passkey_id, "name": passkey.name},
    )


def remove_all(unit: Unit, account_id: str) -> int:
    """Remove every passkey of the account; how many. For an administrator's ``remove-2fa``
    (``second_factors.services.remove_all_factors``, which records one removal per kind)."""
    removed = unit.session.execute(
        delete(Passkey).where(Passkey.account_id == account_id),
        execution_options={"synchronize_session": False},
    ).rowcount  # type: ignore[attr-defined]
    return int(removed)


def _descriptors(passkeys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    from webauthn.helpers.structs import AuthenticatorTransport, PublicKeyCredentialDescriptor

    known = {member.value for member in AuthenticatorTransport}
    return [
        PublicKeyCredentialDescriptor(
            id=b64url_decode(passkey.credential_id),
            transports=[AuthenticatorTransport(t) for t in passkey.transports or () if t in known],
        )
        for passkey in passkeys
    ]
