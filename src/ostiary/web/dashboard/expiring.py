"""The tokens page's "Expiring in the next 30 days": every credential of the account that
expires soon (personal tokens, OAuth grants, the API key under ``OSTIARY_API_KEY_MAX_AGE``),
each with when it expires and a link to where it is rotated or regenerated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from ostiary.config import Settings
from ostiary.lifecycle.queries import expiring_of_account
from ostiary.policies.queries import policy_in_force
from ostiary.tokens.models import AuthorizationKind
from ostiary.unit import lifetimes_of
from ostiary.web.dashboard.pages import PREFIX

WINDOW = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class ExpiringRow:
    """One row of the section: the credential, its kind, when it expires, what to do, where."""

    name: str
    kind: str
    expires_at: datetime
    days: int
    action: str
    link: str


def _where(kind: str, authorization_id: str) -> tuple[str, str, str]:
    """The kind's name, the action that replaces it, and the page that does it."""
    if kind == AuthorizationKind.API_KEY:
        return "API key", "Regenerate", f"{PREFIX}/api-key"
    if kind == AuthorizationKind.OAUTH:
        return "Authorized application", "Review", f"{PREFIX}/authorized-applications"
    if kind == AuthorizationKind.CLIENT_CREDENTIALS:
        return "Application credentials", "Review", f"{PREFIX}/applications"
    return "Token", "Rotate", f"{PREFIX}/tokens/{authorization_id}"


def expiring_rows(session: Session, account_id: str, settings: Settings) -> list[ExpiringRow]:
    """The account's credentials that expire in the next 30 days, soonest first."""
    now = datetime.now(UTC)
    # The API key's age limit in force: the server's, or the account's stricter one.
    policy = policy_in_force(session, lifetimes_of(settings), account_id)
    max_age = policy.settings.api_key_max_age
    rows = []
    for each in expiring_of_account(session, account_id, now, now + WINDOW, max_age):
        kind, action, link = _where(each.kind, each.authorization_id)
        rows.append(
            ExpiringRow(
                name=each.description or "(no description)",
                kind=kind,
                expires_at=each.expires_at,
                days=max(0, (each.expires_at - now).days),
                action=action,
                link=link,
            )
        )
    return rows
