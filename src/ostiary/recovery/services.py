"""Password resets and email verification. Services take the request's
:class:`~ostiary.unit.Unit` and never commit; the mail they queue is sent after the commit
(the request then wakes the sending: ``web.recovery``).

A reset or verification link is a random token of which only the keyed hash is stored
(``accounts.email_links``), single-use, expiring (30 minutes for a reset, a day for a
verification), and mailed sealed (``security.sealing.mail_body_sealer``). Using a reset
link sets the password as a change would (``tokens.owners.change_password``): every session
ends, the API key is regenerated; and the other reset links of the account are voided.
"""

from __future__ import annotations

from ostiary.accounts.email_links import (
    find_link,
    issue_link,
    links_sent_since,
    recent_window_start,
    void_links,
)
from ostiary.accounts.errors import LinkNotUsable, TooManyLinks
from ostiary.accounts.models import Account, EmailLink
from ostiary.accounts.queries import find_by_email
from ostiary.accounts.rules import (
    EMAIL_VERIFICATION,
    LINK_LIFETIMES,
    LINKS_PER_WINDOW,
    PASSWORD_RESET,
)
from ostiary.accounts.services import available_email, change_email, mark_verified
from ostiary.errors import NotFound
from ostiary.mail.messages import Mail
from ostiary.recovery.mail import (
    email_changed_notice,
    reset_link_mail,
    verification_mail,
)
from ostiary.recovery.records import EmailChange, Mailroom
from ostiary.tokens.owners import change_password
from ostiary.tokens.records import IssuedAuthorization
from ostiary.unit import Unit
from ostiary.webhooks.outbox import queue_mail

RESET_PATH = "/reset-password"
VERIFY_PATH = "/verify-email"
RESET_MINUTES = int(LINK_LIFETIMES[PASSWORD_RESET].total_seconds() // 60)


def _when(unit: Unit) -> str:
    return unit.now().strftime("%Y-%m-%d %H:%M UTC")


def _queue_link_mail(unit: Unit, mailroom: Mailroom, mail: Mail, purpose: str) -> None:
    """Queue a mail carrying a link: sealed, and given up when the link expires."""
    queue_mail(
        unit.session,
        mail,
        now=unit.now(),
        retry_for=LINK_LIFETIMES[purpose],
        seal=mailroom.seal,
    )


def _queue_notice(unit: Unit, mailroom: Mailroom, mail: Mail) -> None:
    if mailroom.enabled:
        queue_mail(unit.session, mail, now=unit.now(), retry_for=mailroom.notice_window)


def _within_budget(unit: Unit, account_id: str, purpose: str) -> bool:
    """Whether the account may be sent another link of ``purpose`` in this window."""
    sent = links_sent_since(unit, account_id, purpose, recent_window_start(unit))
    return sent < LINKS_PER_WINDOW


def request_password_reset(unit: Unit, mailroom: Mailroom, email: str) -> None:
    """ "Forgot password?": mail a reset link to the account with ``email``, if there is one,
    it is enabled, and it was not sent too many already. The caller answers the same in every
    case, so nothing here is returned."""
    account = find_by_email(unit.session, email)
    sent = False
    reason = None
    if account is None:
        reason = "unknown email"
    elif account.disabled_at is not None:
        reason = "account disabled"
    elif not mailroom.enabled:
        reason = "mail is off"
    elif not _within_budget(unit, account.id, PASSWORD_RESET):
        reason = "too many links"
    else:
        token = issue_link(unit, account_id=account.id, purpose=PASSWORD_RESET, email=account.email)
        mail = reset_link_mail(account.email, mailroom.link(RESET_PATH, token), RESET_MINUTES)
        _queue_link_mail(unit, mailroom, mail, PASSWORD_RESET)
        sent = True
    unit.record(
        "account:password-reset:request",
        actor_id=account.id if account is not None else None,
        target_type="account" if account is not None else None,
        target_id=account.id if account is not None else None,
        details={"sent": sent, **({"reason": reason} if reason else {})},
    )


def administrator_reset_link(unit: Unit, mailroom: Mailroom, account: Account) -> str:
    """A one-time reset link for the administrator to hand over (``ostiary accounts
    reset-password``): the account's other reset links are voided, nothing is mailed."""
    void_links(unit, account.id, PASSWORD_RESET)
    token = issue_link(unit, account_id=account.id, purpose=PASSWORD_RESET, email=account.email)
    unit.record(
        "account:password-reset:request",
        actor_id=None,
        target_type="account",
        target_id=account.id,
        details={"sent": False, "by": "administrator"},
    )
    return mailroom.link(RESET_PATH, token)


def reset_account(unit: Unit, token: str) -> Account:
    """The account a usable reset link belongs to (the reset page shows its email and checks
    the new password against it); LinkNotUsable otherwise."""
    link = find_link(unit, token, PASSWORD_RESET, lock=False)
    account = unit.session.get(Account, link.account_id)
    if account is None:
        raise NotFound("account")
    return account


def reset_password(
    unit: Unit, mailroom: Mailroom, token: str, new_hash: str
) -> IssuedAuthorization:
    """Spend a reset link: the new password (hashed by the caller, off the event loop), every
    session ended, the API key regenerated, the account's other reset links voided, and the
    owner told by mail. Answers the new API key (the page shows it once)."""
    link = find_link(unit, token, PASSWORD_RESET)
    account = unit.session.get(Account, link.account_id)
    if account is None:
        raise NotFound("account")
    if account.disabled_at is not None:
        # Asked for before an administrator disabled the account: it changes nothing now.
        raise LinkNotUsable
    void_links(unit, account.id, PASSWORD_RESET)
    link.used_at = unit.now()
    issued = _set_password(unit, account, new_hash, by="reset link")
    # Following the link proved the owner reads the address.
    if account.email_verified_at is None and link.email == account.email:
        mark_verified(unit, account)
    return issued


def administrator_set_password(unit: Unit, account: Account, new_hash: str) -> IssuedAuthorization:
    """The administrator's reset (``ostiary accounts reset-password --password-stdin``): as a
    reset link's, recorded as by the administrator."""
    void_links(unit, account.id, PASSWORD_RESET)
    return _set_password(unit, account, new_hash, by="administrator")


def _set_password(unit: Unit, account: Account, new_hash: str, *, by: str) -> IssuedAuthorization:
    # The owner is told by the notifications, from the event (notifications.rules).
    return change_password(
        unit,
        account,
        new_hash=new_hash,
        keep_session_id=None,
        action="account:password:reset",
        details={"by": by},
    )


def send_verification(unit: Unit, mailroom: Mailroom, account: Account) -> None:
    """Mail a verification link to the account's address (sign-up, or "resend"); the other
    links verifying that address are voided. RateLimited past the per-account budget."""
    if not mailroom.enabled or account.email_verified_at is not None:
        return
    if not _within_budget(unit, account.id, EMAIL_VERIFICATION):
        raise TooManyLinks
    void_links(unit, account.id, EMAIL_VERIFICATION)
    token = issue_link(unit, account_id=account.id, purpose=EMAIL_VERIFICATION, email=account.email)
    mail = verification_mail(account.email, mailroom.link(VERIFY_PATH, token), change=False)
    _queue_link_mail(unit, mailroom, mail, EMAIL_VERIFICATION)


def request_email_change(
    unit: Unit, mailroom: Mailroom, account: Account, email: str
) -> EmailChange:
    """Ask to move the account to ``email``: a verification link goes to the new address and
    the change waits for it. Without mail the change is made at once, unverified (there is no
    way to prove the address)."""
    normalized = available_email(unit, account, email)
    if normalized == account.email:
        return EmailChange(normalized, pending=False)
    if not mailroom.enabled:
        change_email(unit, account, normalized)
        return EmailChange(normalized, pending=False)
    if not _within_budget(unit, account.id, EMAIL_VERIFICATION):
        raise TooManyLinks
    void_links(unit, account.id, EMAIL_VERIFICATION)
    token = issue_link(unit, account_id=account.id, purpose=EMAIL_VERIFICATION, email=normalized)
    mail = verification_mail(normalized, mailroom.link(VERIFY_PATH, token), change=True)
    _queue_link_mail(unit, mailroom, mail, EMAIL_VERIFICATION)
    unit.record(
        "account:email:change-request",
        actor_id=account.id,
        target_type="account",
        target_id=account.id,
    )
    return EmailChange(normalized, pending=True)


def verification_link(unit: Unit, token: str) -> EmailLink:
    """A usable verification link (the confirmation page shows its address)."""
    return find_link(unit, token, EMAIL_VERIFICATION, lock=False)


def confirm_email(unit: Unit, mailroom: Mailroom, token: str) -> Account:
    """Spend a verification link: the address it was sent to is verified, and becomes the
    account's when it was a change (the old address is told)."""
    link = find_link(unit, token, EMAIL_VERIFICATION)
    account = unit.session.get(Account, link.account_id)
    if account is None:
        raise NotFound("account")
    void_links(unit, account.id, EMAIL_VERIFICATION)
    link.used_at = unit.now()
    old = account.email
    if link.email != old:
        change_email(unit, account, link.email, verified=True)
        _queue_notice(unit, mailroom, email_changed_notice(old, account.email, _when(unit)))
    mark_verified(unit, account)
    return account
