"""The mail of a notification: what happened, when (UTC), from which address and device, and
the dashboard page to look at, in a text part and an HTML part.

A mail holds no token, secret, code or password: it is built from the event's own columns and
only the detail keys named here (a second factor's kind, the recovery codes left, a token's
scopes), each value checked by ``webhooks.rules.redacted``. A User-Agent is shown only as the
device it names (``rules.device_of``), never as sent. Every value is escaped in the HTML part.
"""

from __future__ import annotations

import html
from collections.abc import Callable

from ostiary.activity.records import LoggedEvent
from ostiary.config import Settings
from ostiary.mail.messages import Mail
from ostiary.notifications.records import NOTIFICATIONS_PAGE, Kind
from ostiary.notifications.rules import by_someone_else, device_of
from ostiary.webhooks.rules import redacted

FACTOR_NAMES = {
    "totp": "an authenticator app (TOTP)",
    "passkey": "a passkey",
    "recovery-code": "a recovery code",
}


def _factor(value: object) -> str:
    return FACTOR_NAMES.get(str(value), "a second factor")


def _scopes(value: object) -> str:
    return ", ".join(str(scope) for scope in value) if isinstance(value, list) else str(value)


# The detail keys a mail may show, each with its label and how its value reads.
SHOWN_DETAILS: dict[str, tuple[str, Callable[[object], str]]] = {
    "kind": ("Second factor", _factor),
    "remaining": ("Recovery codes left", str),
    "scope": ("Scopes", _scopes),
}


def server_url(settings: Settings) -> str:
    """The server's public address: ``OSTIARY_ISSUER``, else the one it listens on."""
    base = settings.issuer or f"https://{settings.host}:{settings.port}"
    return base.rstrip("/")


def notification_mail(
    kind: Kind, event: LoggedEvent, *, account_id: str, to: str, base_url: str
) -> Mail:
    """The mail telling the account ``account_id`` (at ``to``) of ``event``, a notification of
    ``kind``. Another actor's address and agent (an administrator's) are not shown."""
    someone_else = by_someone_else(event, account_id)
    when = event.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    if someone_else:
        where = "an administrator of this Ostiary server"
    else:
        where = event.ip or "an unknown address"
    facts = [("What", kind.summary), ("When", when), ("From", where)]
    if event.user_agent and not someone_else:
        facts.append(("Device", device_of(event.user_agent)))
    details = redacted(event.details)
    for key, (label, shown) in SHOWN_DETAILS.items():
        if key in details and details[key] is not None:
            facts.append((label, shown(details[key])))
    link = f"{base_url}{kind.page}"
    settings_link = f"{base_url}{NOTIFICATIONS_PAGE}"
    advice = (
        "If this was you, nothing needs doing. If it was not, change your password and review "
        "your account at once:"
    )
    if kind.security:
        footer = (
            "Notices about your password, second factors, recovery codes and API key are "
            "always sent."
        )
    else:
        footer = f"You can turn off notices like this one at {settings_link}."
    text = "\n".join(
        [
            "Ostiary noticed this on your account:",
            "",
            *(f"{label}: {value}" for label, value in facts),
            "",
            advice,
            link,
            "",
            footer,
        ]
    )
    rows = "".join(
        f"<tr><th>{html.escape(label)}</th><td>{html.escape(value)}</td></tr>"
        for label, value in facts
    )
    footer_html = (
        html.escape(footer)
        if kind.security
        else f'You can turn off notices like this one on <a href="{html.escape(settings_link)}">'
        "your notification settings</a>."
    )
    body = (
        "<p>Ostiary noticed this on your account:</p>"
        f"<table>{rows}</table>"
        f"<p>{html.escape(advice.rstrip(':'))}: "
        f'<a href="{html.escape(link)}">{html.escape(link)}</a></p>'
        f"<p>{footer_html}</p>"
    )
    return Mail(to=to, subject=kind.subject, text=text, html=body)
