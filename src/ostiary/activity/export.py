"""An account's events as documents: the API's JSON shape, CSV rows and NDJSON lines, and the
whole filtered range read in batches (an export never holds every row in memory)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import and_, or_

from ostiary.activity.chain import timestamp
from ostiary.activity.queries import events_of, logged_event
from ostiary.activity.records import LoggedEvent
from ostiary.activity.rules import EventFilter, as_seen_by
from ostiary.db import Database
from ostiary.events import Event

EXPORT_BATCH = 500

CSV_COLUMNS = (
    "id",
    "created_at",
    "action",
    "outcome",
    "actor_id",
    "subject_id",
    "authorization_id",
    "token",
    "client_id",
    "app_id",
    "target_type",
    "target_id",
    "source_ip",
    "user_agent",
    "request_id",
    "seq",
    "details",
)
# A cell starting with one of these is a formula to a spreadsheet; a user agent or an email is
# anyone's to choose (a failed sign-in against an account lands in its export).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def event_document(event: LoggedEvent) -> dict[str, Any]:
    """An event as the API shows it (``GET /account/events``, NDJSON export)."""
    credential = None
    if event.authorization_id or event.token or event.client_id:
        credential = {
            "id": event.authorization_id,
            "token": event.token,
            "client": {"id": event.client_id} if event.client_id else None,
        }
    return {
        "id": event.id,
        "action": event.action,
        "created_at": timestamp(event.created_at),
        "actor": {"id": event.actor_id} if event.actor_id else None,
        "subject": {"id": event.subject_id} if event.subject_id else None,
        "authorization": credential,
        "target": (
            {"type": event.target_type, "id": event.target_id}
            if event.target_type or event.target_id
            else None
        ),
        "app": {"id": event.app_id} if event.app_id else None,
        "source_ip": event.ip,
        "user_agent": event.user_agent,
        "request_id": event.request_id,
        "outcome": event.outcome,
        "details": event.details,
        "seq": event.seq or None,
    }


def _cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text


def csv_row(event: LoggedEvent) -> list[str]:
    """An event as a CSV row of :data:`CSV_COLUMNS`, formula-looking cells defused."""
    values = (
        event.id,
        timestamp(event.created_at),
        event.action,
        event.outcome,
        event.actor_id,
        event.subject_id,
        event.authorization_id,
        event.token,
        event.client_id,
        event.app_id,
        event.target_type,
        event.target_id,
        event.ip,
        event.user_agent,
        event.request_id,
        event.seq or "",
        json.dumps(event.details, sort_keys=True, ensure_ascii=False),
    )
    return [_cell(value) for value in values]


def _csv_line(cells: list[str]) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow(cells)
    return buffer.getvalue().encode("utf-8")


def batches(
    database: Database,
    account_id: str,
    wanted: EventFilter,
    app_id: str | None,
    *,
    size: int = EXPORT_BATCH,
) -> Iterator[list[LoggedEvent]]:
    """The filtered events, newest first, ``size`` at a time, each batch read in a short
    transaction of its own (keyset on ``(created_at, id)``: nothing is skipped or repeated)."""
    after: tuple[Any, str] | None = None
    while True:
        query = events_of(account_id, wanted, app_id)
        if after is not None:
            moment, last_id = after
            query = query.where(
                or_(Event.created_at < moment, and_(Event.created_at == moment, Event.id < last_id))
            )
        query = query.order_by(Event.created_at.desc(), Event.id.desc()).limit(size)
        with database.unit_of_work(write=False) as session:
            batch = [as_seen_by(logged_event(row), account_id) for row in session.scalars(query)]
        if not batch:
            return
        yield batch
        if len(batch) < size:
            return
        after = (batch[-1].created_at, batch[-1].id)


def csv_stream(batched: Iterator[list[LoggedEvent]]) -> Iterator[bytes]:
    """A CSV export: a header line, then one line per event."""
    yield _csv_line(list(CSV_COLUMNS))
    for batch in batched:
        yield b"".join(_csv_line(csv_row(event)) for event in batch)


def ndjson_stream(batched: Iterator[list[LoggedEvent]]) -> Iterator[bytes]:
    """An NDJSON export: one event document per line."""
    for batch in batched:
        yield b"".join(
            json.dumps(event_document(event), ensure_ascii=False).encode("utf-8") + b"\n"
            for event in batch
        )
