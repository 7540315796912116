"""Activity: the account's activity log as sentences ("API key regenerated from 203.0.113.5,
Firefox on Linux"), with the API's filters in a GET form, each row linking to the token, session
or app involved; 50 a page, older ones behind a link."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from ostiary.activity.chain import timestamp
from ostiary.activity.describe import sentence
from ostiary.activity.queries import events_of, logged_event, resolve_app
from ostiary.activity.records import LoggedEvent
from ostiary.activity.rules import (
    EventFilter,
    as_seen_by,
    check_window,
    parse_action,
    parse_timestamp,
)
from ostiary.apps.models import App
from ostiary.errors import InvalidParams
from ostiary.events import Event
from ostiary.tokens.models import Authorization, AuthorizationKind
from ostiary.web.dashboard.pages import PREFIX, Visitor, render, show

router = APIRouter(include_in_schema=False)
ACTIVITY = f"{PREFIX}/activity"
PAGE_SIZE = 50
FILTERS = ("action", "authorization_id", "app", "since", "until")
# What a browser's datetime-local input sends: a minute, no zone (taken as UTC, as shown).
_LOCAL_MINUTE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")


@dataclass(frozen=True, slots=True)
class Row:
    """One event as the page shows it."""

    event: LoggedEvent
    sentence: str
    link: str | None
    link_label: str | None


def _moment(value: str, name: str) -> datetime | None:
    if _LOCAL_MINUTE.match(value):
        value += ":00Z"
    return parse_timestamp(value, name)


def _links(session: Session, events: list[LoggedEvent]) -> dict[str, str]:
    """The kind of each authorization the events name, for the link to its page."""
    ids = {
        e.target_id if e.target_type == "authorization" else e.authorization_id for e in events
    } - {None}
    if not ids:
        return {}
    query = select(Authorization.id, Authorization.kind).where(Authorization.id.in_(ids))
    return dict(session.execute(query).tuples().all())


def _link(event: LoggedEvent, kinds: dict[str, str], app_names: dict[str, str]) -> tuple[str, str]:
    if event.target_type == "session":
        return f"{PREFIX}/sessions", "Sessions"
    if event.target_type == "app" and event.target_id in app_names:
        return f"{PREFIX}/apps/{app_names[event.target_id]}", app_names[event.target_id]
    involved = event.target_id if event.target_type == "authorization" else event.authorization_id
    kind = kinds.get(involved or "")
    if kind == AuthorizationKind.API_KEY:
        return f"{PREFIX}/api-key", "API key"
    if kind == AuthorizationKind.PERSONAL:
        return f"{PREFIX}/tokens", "Tokens"
    if kind == AuthorizationKind.OAUTH:
        return f"{PREFIX}/authorized-applications", "Authorized applications"
    if kind == AuthorizationKind.CLIENT_CREDENTIALS and event.client_id:
        return f"{PREFIX}/applications/{event.client_id}", "Application"
    return "", ""


def _app_names(session: Session, events: list[LoggedEvent]) -> dict[str, str]:
    ids = {e.target_id for e in events if e.target_type == "app"} - {None}
    if not ids:
        return {}
    return dict(session.execute(select(App.id, App.name).where(App.id.in_(ids))).tuples().all())


@router.get(ACTIVITY)
async def activity_page(request: Request) -> Response:
    """The account's events, newest first, filtered as the form asks."""
    given = {name: request.query_params.get(name, "").strip()[:100] for name in FILTERS}
    before = request.query_params.get("before", "")

    def build(session: Session, visitor: Visitor) -> Response:
        try:
            wanted = EventFilter(
                action=parse_action(given["action"]),
                authorization_id=given["authorization_id"] or None,
                app=given["app"] or None,
                since=_moment(given["since"], "since"),
                until=_moment(given["until"], "until"),
            )
            check_window(wanted.since, wanted.until)
            cursor = parse_timestamp(before, "before") if before else None
        except InvalidParams as error:
            return render(
                request, visitor, "activity.html", status=422, rows=[], given=given,
                problem=error.message, older=None,
            )  # fmt: skip
        app_id = resolve_app(session, visitor.account.id, wanted.app)
        query = events_of(visitor.account.id, wanted, app_id)
        if cursor is not None:
            query = query.where(Event.created_at < cursor)
        query = query.order_by(Event.created_at.desc(), Event.id.desc()).limit(PAGE_SIZE + 1)
        mine = visitor.account.id
        events = [as_seen_by(logged_event(row), mine) for row in session.scalars(query)]
        more, events = len(events) > PAGE_SIZE, events[:PAGE_SIZE]
        kinds, names = _links(session, events), _app_names(session, events)
        rows = []
        for event in events:
            link, label = _link(event, kinds, names)
            rows.append(Row(event, sentence(event), link or None, label or None))
        older = None
        if more:
            older = (
                ACTIVITY
                + "?"
                + urlencode(
                    {
                        **{k: v for k, v in given.items() if v},
                        "before": timestamp(events[-1].created_at),
                    }
                )
            )
        return render(
            request, visitor, "activity.html", rows=rows, given=given, problem=None, older=older
        )

    return show(request, build)
