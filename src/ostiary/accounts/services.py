"""Creating and updating accounts; changing their passwords. Services take the request's
:class:`~ostiary.unit.Unit` and never commit.

Passwords are proved in ``accounts/passwords.py``."""

from __future__ import annotations

from ostiary.accounts.errors import EmailTaken, InvalidEmail
from ostiary.accounts.models import Account
from ostiary.accounts.queries import find_by_email, normalize_email
from ostiary.accounts.rules import EMAIL_PATTERN, validate_password
from ostiary.security.passwords import hash_password
from ostiary.unit import Unit


def new_password_hash(password: str, email: str | None = None) -> str:
    """A new password's argon2id hash once the policy accepts it for the account with
    ``email``, computed here (for the command line; servers hash in their pool:
    ``accounts/passwords.py``)."""
    validate_password(password, email)
    return hash_password(password)


def update_account(
    unit: Unit,
    account: Account,
    *,
    changes: dict[str, object],
) -> Account:
    """Apply the fields a client may change on its own account: name, allow_tracking, beta."""
    for field, value in changes.items():
        setattr(account, field, value)
    if changes:
        account.updated_at = unit.now()
        unit.record(
            "account:update",
            actor_id=account.id,
            target_type="account",
            target_id=account.id,
            details={"fields": sorted(changes)},
        )
    return account


def available_email(unit: Unit, account: Account, email: str) -> str:
    """The normalized form of a new address for the account: valid, and no other account's
    (InvalidEmail, EmailTaken)."""
    normalized = normalize_email(email)
    if not EMAIL_PATTERN.match(normalized) or len(normalized) > 254:
        raise InvalidEmail(email)
    if normalized != account.email and find_by_email(unit.session, normalized) is not None:
        raise EmailTaken(normalized)
    return normalized


def change_email(unit: Unit, account: Account, email: str, *, verified: bool = False) -> None:
    """Move the account to another email address, if no other account has it; ``verified``
    when the owner just proved they read it (a followed verification link)."""
    normalized = available_email(unit, account, email)
    if normalized == account.email:
        return
    account.email = normalized
    account.email_verified_at = unit.now() if verified else None
    account.updated_at = unit.now()
    unit.record("account:email:change", actor_id=account.id, target_id=account.id)


def mark_verified(unit: Unit, account: Account) -> None:
    """Record that the owner proved they read the account's address."""
    account.email_verified_at = unit.now()
    unit.record(
        "account:email:verify", actor_id=account.id, target_type="account", target_id=account.id
    )


def disable_account(unit: Unit, account: Account) -> bool:
    """Disable the account (an administrator's decision): its credentials are refused until it
    is enabled again. False when it already was."""
    if account.disabled_at is not None:
        return False
    account.disabled_at = unit.now()
    unit.record("account:disable", actor_id=None, target_type="account", target_id=account.id)
    return True


def enable_account(unit: Unit, account: Account) -> bool:
    """Enable a disabled account: its credentials work again. False when it was enabled."""
    if account.disabled_at is None:
        return False
    account.disabled_at = None
    unit.record("account:enable", actor_id=None, target_type="account", target_id=account.id)
    return True


def add_account(
    unit: Unit,
    *,
    email: str,
    password_hash: str,
    name: str | None = None,
    verified: bool = False,
) -> Account:
    """Create an account with its password's argon2id hash (``tokens.owners.create_account``
    gives it its API key too); ``verified`` for an account an administrator makes, whose
    address needs no proof."""
    normalized = normalize_email(email)
    if not EMAIL_PATTERN.match(normalized) or len(normalized) > 254:
        raise InvalidEmail(email)
    if find_by_email(unit.session, normalized) is not None:
        raise EmailTaken(normalized)
    account = Account(
        email=normalized,
        name=name,
        password_hash=password_hash,
        email_verified_at=unit.now() if verified else None,
    )
    unit.session.add(account)
    unit.session.flush()
    unit.record("account:create", actor_id=account.id, target_type="account", target_id=account.id)
    return account
