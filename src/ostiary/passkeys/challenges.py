"""The challenges of passkey ceremonies (WebAuthn L2 section 13.4.3): 32 random bytes handed
to the browser, kept only as a keyed hash with the ceremony's purpose, its account and a keyed
hash of the asking browser's CSRF cookie, for two minutes; the first answer consumes one, so an
answer is accepted once. Services take the request's :class:`~ostiary.unit.Unit`."""

from __future__ import annotations

import hmac
import secrets

from sqlalchemy import delete, select

from ostiary.errors import Audit
from ostiary.passkeys.errors import ChallengeInvalid
from ostiary.passkeys.models import PasskeyChallenge
from ostiary.passkeys.rules import (
    CHALLENGE_BYTES,
    CHALLENGE_LIFETIME,
    PURPOSES,
    answered_challenge,
    b64url,
    b64url_decode,
)
from ostiary.unit import Unit


def store_challenge(unit: Unit, *, purpose: str, browser: str, account_id: str | None) -> bytes:
    """A fresh challenge for one ceremony, stored (as a keyed hash) for this browser."""
    assert purpose in PURPOSES
    now = unit.now()
    # Expired challenges go with each new one (one indexed DELETE), besides the purge.
    unit.session.execute(delete(PasskeyChallenge).where(PasskeyChallenge.expires_at < now))
    if account_id is not None:
        # One ceremony of a kind at a time per account: asking again replaces the challenge,
        # so a signed-in (or half signed-in) client cannot pile rows up.
        unit.session.execute(
            delete(PasskeyChallenge).where(
                PasskeyChallenge.account_id == account_id, PasskeyChallenge.purpose == purpose
            )
        )
    challenge = secrets.token_bytes(CHALLENGE_BYTES)
    unit.session.add(
        PasskeyChallenge(
            challenge_digest=_challenge_digest(unit, b64url(challenge)),
            purpose=purpose,
            account_id=account_id,
            browser_digest=_browser_digest(unit, browser),
            created_at=now,
            expires_at=now + CHALLENGE_LIFETIME,
        )
    )
    return challenge


def _challenge_digest(unit: Unit, challenge: str) -> str:
    return unit.hasher.hash(f"passkey-challenge:{challenge}")


def _browser_digest(unit: Unit, browser: str) -> str:
    return unit.hasher.hash(f"passkey-browser:{browser}")


def consume_challenge(
    unit: Unit,
    credential: object,
    *,
    purpose: str,
    browser: str,
    account_id: str | None,
    audit: Audit,
) -> bytes:
    """The challenge this answer was made for, deleted as it is read: it must exist, be live,
    be for this purpose, browser and account. Anything else is ChallengeInvalid (which keeps the
    deletion)."""
    try:
        challenge = b64url_decode(answered_challenge(credential))
    except ValueError:
        raise ChallengeInvalid(audit=audit) from None
    digest = _challenge_digest(unit, b64url(challenge))
    row = unit.session.scalar(
        select(PasskeyChallenge)
        .where(PasskeyChallenge.challenge_digest == digest)
        .with_for_update()
    )
    if row is None:
        raise ChallengeInvalid(audit=audit)
    # The DELETE's row count decides between two answers racing with the same challenge.
    deleted = unit.session.execute(
        delete(PasskeyChallenge).where(PasskeyChallenge.id == row.id),
        execution_options={"synchronize_session": False},
    )
    if (
        deleted.rowcount != 1  # type: ignore[attr-defined]
        or row.purpose != purpose
        or row.account_id != account_id
        or row.expires_at <= unit.now()
        or not hmac.compare_digest(row.browser_digest, _browser_digest(unit, browser))
    ):
        raise ChallengeInvalid(audit=audit)
    return challenge
