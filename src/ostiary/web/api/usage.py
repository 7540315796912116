"""A credential's usage: ``GET /oauth/authorizations/{id}/usage`` (an Ostiary extension of the
oauth-authorization resource; ``~`` is the API key).

Hourly buckets (the last 7 days by default, or ``since``/``until``) split by route group and
status class, and every address and user agent the credential was used from, with first and last
seen and counts. Only the account's own authorizations (revoked ones included, a client
credentials client's too: they belong to its owner); another's is 404. What a worker counted in
the last ``OSTIARY_USAGE_FLUSH_SECONDS`` is not written yet.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from ostiary.agents import agent_of
from ostiary.clock import isoformat, utcnow
from ostiary.usage.queries import credential_of, usage_of
from ostiary.usage.records import Source
from ostiary.usage.rules import usage_window
from ostiary.web.api.deps import CallerDep, SessionDep
from ostiary.web.api.shapes import IdOnly, Timestamp

router = APIRouter(tags=["oauth-authorization"])


class HourOut(BaseModel):
    """Requests in one hour to one route group, answered with one status class."""

    hour: Timestamp
    route_group: str
    status_class: str
    count: int


class AddressOut(BaseModel):
    """An address the credential was used from."""

    address: str
    first_seen: Timestamp
    last_seen: Timestamp
    count: int


class UserAgentOut(BaseModel):
    """A user agent the credential was used with, and its family ("Firefox", "heroku")."""

    user_agent: str
    family: str
    description: str
    first_seen: Timestamp
    last_seen: Timestamp
    count: int


class UsageOut(BaseModel):
    """A credential's usage over a window of hours."""

    authorization: IdOnly
    since: Timestamp
    until: Timestamp
    total: int
    status_classes: dict[str, int]
    hours: list[HourOut]
    addresses: list[AddressOut]
    user_agents: list[UserAgentOut]


def _address(source: Source) -> AddressOut:
    return AddressOut(
        address=source.value,
        first_seen=isoformat(source.first_seen) or "",
        last_seen=isoformat(source.last_seen) or "",
        count=source.count,
    )


def _agent(source: Source) -> UserAgentOut:
    agent = agent_of(source.value or None)
    return UserAgentOut(
        user_agent=source.value,
        family=agent.family,
        description=agent.describe(),
        first_seen=isoformat(source.first_seen) or "",
        last_seen=isoformat(source.last_seen) or "",
        count=source.count,
    )


@router.get(
    "/oauth/authorizations/{authorization_identity}/usage",
    response_model=UsageOut,
    summary="OAuth authorization usage (Ostiary extension)",
)
async def get_usage(
    authorization_identity: str,
    caller: CallerDep,
    session: SessionDep,
    since: str | None = None,
    until: str | None = None,
) -> UsageOut:
    """A credential's requests per hour, route group and status class, and where from."""
    start, end = usage_window(since, until, utcnow())
    authorization = credential_of(session, caller.account_id, authorization_identity)
    usage = usage_of(session, [authorization.id], start, end)
    return UsageOut(
        authorization=IdOnly(id=authorization.id),
        since=isoformat(start) or "",
        until=isoformat(end) or "",
        total=usage.total,
        status_classes=usage.status_mix(),
        hours=[
            HourOut(
                hour=isoformat(b.hour) or "",
                route_group=b.route_group,
                status_class=b.status_class,
                count=b.count,
            )
            for b in usage.hours
        ],
        addresses=[_address(s) for s in usage.addresses],
        user_agents=[_agent(s) for s in usage.agents],
    )
