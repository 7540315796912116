"""The activity log: ``GET /account/events`` (an extension of the Platform API).

Newest first by default, Range-paginated on ``created_at`` (``Range: created_at ..; order=desc,
max=200``; values are RFC 3339 UTC to the microsecond), filtered by ``action`` (an exact action,
or a prefix ending in ``*``: ``token:*``), ``authorization_id``, ``app`` (name or id), ``since``
and ``until`` (RFC 3339, inclusive). An account sees what it did and what was done to it, never
another account's events. Scopes ``global`` or ``identity``.

``Accept: text/csv`` or ``Accept: application/x-ndjson`` streams the whole filtered range
instead of one page (the Range header is ignored), read in batches. Those two media types stand
for version 3 of this route (they exist in no other), so they need no ``version=``; any other
Accept header goes through the API's version check as usual.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse
from pydantic import BaseModel
from sqlalchemy.orm import Session

from ostiary.activity.chain import timestamp
from ostiary.activity.export import batches, csv_stream, event_document, ndjson_stream
from ostiary.activity.queries import events_of, logged_event, resolve_app
from ostiary.activity.rules import (
    EventFilter,
    as_seen_by,
    check_window,
    parse_action,
    parse_timestamp,
)
from ostiary.errors import BadRequest
from ostiary.events import Event
from ostiary.web.api.deps import Caller, authenticate_checked, check_api_version
from ostiary.web.api.ranges import RangeHeader, encode_value, parse_range, within
from ostiary.web.context import services_of

router = APIRouter(tags=["account-event"])

SORTABLE = ("created_at",)
EXPORTS = {"text/csv": "text/csv; charset=utf-8", "application/x-ndjson": "application/x-ndjson"}


def export_format(request: Request) -> str | None:
    """The export media type the Accept header asks for first, if it asks for one."""
    accept = request.headers.get("accept", "")
    first = accept.split(",")[0].split(";")[0].strip().lower()
    return first if first in EXPORTS else None


async def events_caller(request: Request) -> Caller:
    """The caller of the events route: an export's Accept header is its version."""
    if export_format(request) is None:
        check_api_version(request)
    return authenticate_checked(request)


class Credential(BaseModel):
    """The credential an event was made with (the token redacted, never the secret)."""

    id: str | None
    token: str | None
    client: dict[str, str] | None


class EventOut(BaseModel):
    """One event of the activity log."""

    id: str
    action: str
    created_at: str
    actor: dict[str, str] | None
    subject: dict[str, str] | None
    authorization: Credential | None
    target: dict[str, str | None] | None
    app: dict[str, str] | None
    source_ip: str | None
    user_agent: str | None
    request_id: str | None
    outcome: str
    details: dict[str, object]
    seq: int | None


def _filter(
    action: str | None,
    authorization_id: str | None,
    app: str | None,
    since: str | None,
    until: str | None,
) -> EventFilter:
    wanted = EventFilter(
        action=parse_action(action),
        authorization_id=authorization_id or None,
        app=app or None,
        since=parse_timestamp(since, "since"),
        until=parse_timestamp(until, "until"),
    )
    check_window(wanted.since, wanted.until)
    return wanted


def _page(
    session: Session, caller: Caller, wanted: EventFilter, app_id: str | None, header: str | None
) -> JSONResponse:
    requested = parse_range(header, SORTABLE, "created_at")
    if "asc" not in (header or ""):
        # Newest first unless the client asks for order=asc (the "newest first").
        requested = dataclasses.replace(requested, descending=True)
    query = within(
        events_of(caller.account_id, wanted, app_id),
        Event.created_at,
        requested,
        parse_range_time,
        tiebreak=Event.id,
    )
    rows = list(session.scalars(query.limit(requested.max + 1)))
    has_more = len(rows) > requested.max
    events = [as_seen_by(logged_event(row), caller.account_id) for row in rows[: requested.max]]
    first = encode_value(timestamp(events[0].created_at)) if events else ""
    last = encode_value(timestamp(events[-1].created_at)) if events else ""
    headers = {"Accept-Ranges": ", ".join(SORTABLE), "Content-Range": f"created_at {first}..{last}"}
    if has_more:
        # Always named: without it this route reads a Range as newest first.
        direction = ", order=desc" if requested.descending else ", order=asc"
        headers["Next-Range"] = f"created_at ]{last}..; max={requested.max}{direction}"
    body = [event_document(event) for event in events]
    return JSONResponse(body, status_code=206 if has_more else 200, headers=headers)


def parse_range_time(value: str) -> datetime:
    """A Range value of ``created_at``: RFC 3339 (400 ``bad_request`` otherwise, as any bad
    Range header)."""
    try:
        moment = parse_timestamp(value, "Range")
    except Exception:
        raise BadRequest(f"Invalid Range header: {value!r} is not an RFC 3339 time.") from None
    assert moment is not None
    return moment


@router.get(
    "/account/events",
    response_model=list[EventOut],
    summary="Account event list",
    responses={200: {"content": {"text/csv": {}, "application/x-ndjson": {}}}},
)
async def list_events(
    request: Request,
    caller: Annotated[Caller, Depends(events_caller)],
    range_header: RangeHeader = None,
    action: Annotated[str | None, Query(max_length=81)] = None,
    authorization_id: Annotated[str | None, Query(max_length=64)] = None,
    app: Annotated[str | None, Query(max_length=100)] = None,
    since: Annotated[str | None, Query(max_length=40)] = None,
    until: Annotated[str | None, Query(max_length=40)] = None,
) -> Response:
    """What the account did and what was done to it, newest first; or all of it as CSV or
    NDJSON, by the Accept header."""
    wanted = _filter(action, authorization_id, app, since, until)
    database = services_of(request).database
    with database.unit_of_work(write=False) as session:
        app_id = resolve_app(session, caller.account_id, wanted.app)
        media = export_format(request)
        if media is None:
            return _page(session, caller, wanted, app_id, range_header)
    batched = batches(database, caller.account_id, wanted, app_id)
    stream: Iterator[bytes] = csv_stream(batched) if media == "text/csv" else ndjson_stream(batched)
    extension = "csv" if media == "text/csv" else "ndjson"
    return StreamingResponse(
        stream,
        media_type=EXPORTS[media],
        headers={"Content-Disposition": f'attachment; filename="events.{extension}"'},
    )
