"""The usage section the token and authorized-application pages share: the last 7 days' chart
of requests per hour, the status mix, the addresses and user agents with first and last seen;
and the account's busiest credentials, for the tokens page."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from markupsafe import Markup
from sqlalchemy.orm import Session

from ostiary.agents import agent_of
from ostiary.clock import utcnow
from ostiary.tokens.models import AuthorizationKind
from ostiary.usage.charts import hourly_chart, status_bar
from ostiary.usage.queries import busiest, usage_of
from ostiary.usage.records import BusyCredential, CredentialUsage
from ostiary.usage.rules import usage_window
from ostiary.web.dashboard.pages import PREFIX

KIND_NAMES = {
    AuthorizationKind.API_KEY: "API key",
    AuthorizationKind.PERSONAL: "Token",
    AuthorizationKind.OAUTH: "Authorized application",
    AuthorizationKind.CLIENT_CREDENTIALS: "Application (client credentials)",
}


@dataclass(frozen=True, slots=True)
class UsageView:
    """What the ``_usage.html`` section shows."""

    usage: CredentialUsage
    chart: Markup
    mix: Markup
    agents: list[tuple[str, str]]  # (user agent, as a person reads it), in ``usage.agents`` order


def usage_view(session: Session, authorization_ids: Sequence[str]) -> UsageView:
    """The last 7 days of these credentials' usage, ready to show."""
    since, until = usage_window(None, None, utcnow())
    usage = usage_of(session, authorization_ids, since, until)
    return UsageView(
        usage=usage,
        chart=hourly_chart(usage.per_hour(), since, until),
        mix=status_bar(usage.status_mix()),
        agents=[(s.value, agent_of(s.value or None).describe()) for s in usage.agents],
    )


@dataclass(frozen=True, slots=True)
class BusyRow:
    """One of the busiest credentials, named and linked for a person."""

    name: str
    kind: str
    requests: int
    link: str


def busiest_rows(session: Session, account_id: str) -> list[BusyRow]:
    """The account's five busiest credentials over the last 7 days."""
    rows = []
    credential: BusyCredential
    for credential in busiest(session, account_id, utcnow() - timedelta(days=7)):
        if credential.kind == AuthorizationKind.OAUTH and credential.client_id:
            link = f"{PREFIX}/authorized-applications/{credential.client_id}"
        else:
            link = f"{PREFIX}/tokens/{credential.authorization_id}"
        name = (
            credential.description
            or credential.client_name
            or KIND_NAMES.get(AuthorizationKind(credential.kind), credential.kind)
        )
        if credential.kind == AuthorizationKind.OAUTH and credential.client_name:
            name = credential.client_name
        rows.append(
            BusyRow(
                name=name,
                kind=KIND_NAMES.get(AuthorizationKind(credential.kind), credential.kind),
                requests=credential.requests,
                link=link,
            )
        )
    return rows
