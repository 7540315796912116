"""The one-time links mailed to an account (``EmailLink``): made with a random token whose
keyed hash alone is stored, found by that hash, spent once, voided together. Services take the
request's :class:`~ostiary.unit.Unit` and never commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select, update

from ostiary.accounts.errors import LinkNotUsable
from ostiary.accounts.models import EmailLink
from ostiary.accounts.rules import LINK_WINDOW, link_expiry, link_usable, new_link_token
from ostiary.unit import Unit


def issue_link(unit: Unit, *, account_id: str, purpose: str, email: str) -> str:
    """Store a new link for ``purpose`` sent to ``email``; its token's plaintext, to be mailed
    (or printed by the administrator's command) and never kept."""
    token = new_link_token()
    now = unit.now()
    unit.session.add(
        EmailLink(
            account_id=account_id,
            purpose=purpose,
            token_hash=unit.hasher.hash(token),
            email=email,
            created_at=now,
            expires_at=link_expiry(purpose, now),
        )
    )
    return token


def find_link(unit: Unit, token: str, purpose: str, *, lock: bool = True) -> EmailLink:
    """The usable link of ``purpose`` with this token, locked for spending (``lock=False`` in
    a read transaction); LinkNotUsable for an unknown, spent, voided or expired one."""
    if not token or len(token) > 200:
        raise LinkNotUsable
    query = select(EmailLink).where(
        EmailLink.token_hash == unit.hasher.hash(token), EmailLink.purpose == purpose
    )
    link = unit.session.scalar(query.with_for_update() if lock else query)
    if link is None or not link_usable(
        used_at=link.used_at, expires_at=link.expires_at, now=unit.now()
    ):
        raise LinkNotUsable
    return link


def void_links(unit: Unit, account_id: str, purpose: str) -> int:
    """Mark every outstanding link of ``purpose`` of the account used; how many."""
    now = unit.now()
    result = unit.session.execute(
        update(EmailLink)
        .where(
            EmailLink.account_id == account_id,
            EmailLink.purpose == purpose,
            EmailLink.used_at.is_(None),
            EmailLink.expires_at > now,
        )
        .values(used_at=now)
        .execution_options(synchronize_session="fetch")
    )
    return int(getattr(result, "rowcount", 0) or 0)


def links_sent_since(unit: Unit, account_id: str, purpose: str, since: datetime) -> int:
    """How many links of ``purpose`` the account was sent since ``since``."""
    return int(
        unit.session.scalar(
            select(func.count()).where(
                EmailLink.account_id == account_id,
                EmailLink.purpose == purpose,
                EmailLink.created_at >= since,
            )
        )
        or 0
    )


def recent_window_start(unit: Unit) -> datetime:
    """The start of the window the per-account link budget counts in."""
    return unit.now() - LINK_WINDOW
