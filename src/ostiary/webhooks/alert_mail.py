"""Alert mail: each ``alert:<rule>`` event queued in the outbox as a mail to its account's
owner, saying what happened, when, from where, and where to look (the dashboard).

A ``SealedEventsSubscriber`` like the deliveries' enqueuer, so a mail is queued in the very
transaction that seals its alert. Without ``OSTIARY_SMTP_URL`` there is no subscriber and
nothing is queued (``ostiary check`` says alert mail is off).
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ostiary.accounts.models import Account
from ostiary.activity.records import LoggedEvent, SealedEventsSubscriber
from ostiary.agents import agent_of
from ostiary.alerts.records import LIFECYCLE_RULES
from ostiary.clock import utcnow
from ostiary.config import Settings
from ostiary.mail.messages import Mail
from ostiary.webhooks.outbox import queue_mail
from ostiary.webhooks.rules import redacted

ALERT_PREFIX = "alert:"
# What each rule means to the person reading the mail (the rules of alerts.records.RULES).
RULE_SUMMARIES = {
    "spike": "a credential made far more requests than usual",
    "new-network": "a credential was used from a network it had not used before",
    "new-user-agent": "a credential was used by a kind of client it had not used before",
    "dormant-use": "a credential was used after a long time unused",
    "probing": "a burst of refused requests was made with a credential",
    "dead-credential": "a revoked or expired credential was presented again",
    "leaked": "a credential was found exposed and has been revoked",
    "expiring": "a credential expires soon",
    "expired": "a credential has expired",
    "idle-revocation": "an unused credential will be revoked soon",
    "idle-revoked": "an unused credential was revoked",
}
# Short enough for a subject line that is never folded.
RULE_SUBJECTS = {
    "spike": "a spike in requests",
    "new-network": "a credential used from a new network",
    "new-user-agent": "a credential used by a new client",
    "dormant-use": "a dormant credential used again",
    "probing": "refused requests in a burst",
    "dead-credential": "a revoked or expired credential presented",
    "leaked": "a credential found exposed and revoked",
    "expiring": "a credential expires soon",
    "expired": "a credential expired",
    "idle-revocation": "an unused credential to be revoked",
    "idle-revoked": "an unused credential revoked",
}

_ADDRESS_KEYS = ("ip", "address", "network")
# Detail keys holding a User-Agent as the caller sent it: mailed only as the agent it names.
_AGENT_KEYS = frozenset({"user_agent", "agent"})
# A described agent's length in a mail: ua-parser's family can echo part of the header.
AGENT_MAX = 60


def described_agent(user_agent: str) -> str:
    """A User-Agent as a mail shows it: the family and system it names (``agents.agent_of``),
    never the header itself (anyone holding a token chooses it), truncated."""
    return _truncated(agent_of(user_agent).describe())


def _truncated(text: str) -> str:
    return text if len(text) <= AGENT_MAX else text[: AGENT_MAX - 1] + "…"


def dashboard_url(settings: Settings) -> str:
    """Where the owner looks: the issuer's dashboard (``OSTIARY_ISSUER``), else this server's
    own address."""
    base = settings.issuer or f"https://{settings.host}:{settings.port}"
    return f"{base.rstrip('/')}/dashboard/tokens"


def alert_mail(event: LoggedEvent, to: str, link: str) -> Mail:
    """The mail of one alert event; no token, secret or code (details are redacted)."""
    rule = event.action[len(ALERT_PREFIX) :]
    summary = RULE_SUMMARIES.get(rule, "something unusual happened on your account")
    details = redacted(event.details)
    where = event.ip or next(
        (str(details[key]) for key in _ADDRESS_KEYS if details.get(key)), "an unknown address"
    )
    client = described_agent(event.user_agent) if event.user_agent else None
    when = event.created_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    facts = [
        ("What", summary),
        ("When", when),
        ("From", f"{where}, {client}" if client else where),
        ("Credential", event.authorization_id or event.target_id or "unknown"),
        *(
            (str(key).replace("_", " "), _shown(key, value))
            for key, value in sorted(details.items())
        ),
    ]
    notice = rule in LIFECYCLE_RULES
    opening = (
        f"Ostiary has news of a credential of your account ({rule}):"
        if notice
        else f"Ostiary noticed unusual activity on your account ({rule}):"
    )
    closing = (
        "Review your credentials (make a new one where one is needed):"
        if notice
        else "If this was you, nothing needs doing. If not, revoke the credential:"
    )
    text = "\n".join(
        [opening, "", *(f"{name}: {value}" for name, value in facts), "", closing, link]
    )
    rows = "".join(
        f"<tr><th>{html.escape(name)}</th><td>{html.escape(value)}</td></tr>"
        for name, value in facts
    )
    body = (
        f"<p>{html.escape(opening)}</p><table>{rows}</table>"
        f"<p>{html.escape(closing.rstrip(':'))} on "
        f'<a href="{html.escape(link)}">your dashboard</a>.</p>'
    )
    subject = RULE_SUBJECTS.get(rule, "unusual activity")
    kind = "notice" if notice else "alert"
    return Mail(to=to, subject=f"Ostiary {kind}: {subject}", text=text, html=body)


def _shown(key: str, value: object) -> str:
    if key in _AGENT_KEYS and isinstance(value, str):
        return described_agent(value)
    if key == "family":  # already an agent's family (the new-user-agent rule), kept short
        return _truncated(str(value))
    return str(value)


def enqueue_alert_mail(
    session: Session, events: Sequence[LoggedEvent], *, link: str, retry_window: timedelta
) -> int:
    """Queue one mail per alert event to its account's email; how many."""
    alerts = [e for e in events if e.action.startswith(ALERT_PREFIX) and e.actor_id is not None]
    if not alerts:
        return 0
    emails = dict(
        session.execute(
            select(Account.id, Account.email).where(
                Account.id.in_({event.actor_id for event in alerts})
            )
        ).all()
    )
    now = utcnow()
    queued = 0
    for event in alerts:
        email = emails.get(event.actor_id or "")
        if email:
            queue_mail(session, alert_mail(event, email, link), now=now, retry_for=retry_window)
            queued += 1
    return queued


def alert_mail_enqueuer(settings: Settings) -> SealedEventsSubscriber | None:
    """The subscriber that queues alert mail, or None when no SMTP server is configured."""
    if settings.smtp_url is None:
        return None
    link = dashboard_url(settings)
    window = timedelta(seconds=settings.webhook_retry_seconds)

    def subscriber(session: Session, events: Sequence[LoggedEvent]) -> None:
        enqueue_alert_mail(session, events, link=link, retry_window=window)

    return subscriber
