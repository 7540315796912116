"""Range pagination, as Heroku's API does it.

A request may send ``Range: <attribute> [start]..[end][; max=N, order=desc]``. A start beginning
with ``]`` is exclusive (that is how ``Next-Range`` continues after the last item sent). Lists
answer 200 when complete and 206 with ``Next-Range`` when more items remain, never on the last
page (the heroku CLI follows ``Next-Range`` on every list and would loop). ``Content-Range`` names
the first and last items sent; ``Accept-Ranges`` the sortable attributes.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Header
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import Integer, Select
from sqlalchemy.orm import InstrumentedAttribute, Session

from ostiary.errors import BadRequest

DEFAULT_MAX = 200
LIMIT_MAX = 1000

_RANGE = re.compile(
    r"^\s*(?P<attribute>[a-z_]+)\s+(?P<start>[^.\s;]*)\s*\.\.\s*(?P<end>[^;\s]*)\s*(?:;(?P<params>.*))?$"
)
_PARAM = re.compile(r"^(?P<name>max|order)\s*=\s*(?P<value>\S+)$")

T = TypeVar("T")

RangeHeader = Annotated[str | None, Header(alias="Range", description="Range pagination")]


@dataclass(frozen=True, slots=True)
class Range:
    """A parsed Range header."""

    attribute: str
    start: str | None
    start_exclusive: bool
    end: str | None
    max: int
    descending: bool


def parse_range(header: str | None, sortable: Sequence[str], default: str) -> Range:
    """Parse a Range header; 400 ``bad_request`` when malformed or naming an unsortable attribute.

    Empty parameters are tolerated (heroku3 sends ``Range: id ..; ;``).
    """
    if header is None or not header.strip():
        return Range(default, None, False, None, DEFAULT_MAX, False)
    match = _RANGE.match(header)
    if match is None:
        raise BadRequest(f"Invalid Range header {header!r}: expected `<attribute> [start]..[end]`.")
    attribute = match.group("attribute")
    if attribute not in sortable:
        raise BadRequest(
            f"Invalid Range header: {attribute!r} is not sortable; use one of: "
            f"{', '.join(sortable)}."
        )
    limit, descending = DEFAULT_MAX, False
    for raw in re.split(r"[;,]", match.group("params") or ""):
        if not raw.strip():
            continue
        param = _PARAM.match(raw.strip())
        if param is None:
            raise BadRequest(f"Invalid Range header parameter {raw.strip()!r}.")
        if param.group("name") == "max":
            if (
                not param.group("value").isdigit()
                or not 1 <= int(param.group("value")) <= LIMIT_MAX
            ):
                raise BadRequest(f"Invalid Range header: max must be 1 to {LIMIT_MAX}.")
            limit = int(param.group("value"))
        elif param.group("value") in ("asc", "desc"):
            descending = param.group("value") == "desc"
        else:
            raise BadRequest("Invalid Range header: order must be asc or desc.")
    start = match.group("start") or None
    exclusive = bool(start and start.startswith("]"))
    if exclusive:
        start = start[1:] or None  # type: ignore[index]
    return Range(attribute, start, exclusive, match.group("end") or None, limit, descending)


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list, with what the response headers need."""

    items: list[T]
    range: Range
    first_value: str | None
    last_value: str | None
    has_more: bool


def _coerce(column: InstrumentedAttribute[Any], value: str) -> Any:
    if isinstance(column.type, Integer):
        if not value.lstrip("-").isdigit():
            raise BadRequest(f"Invalid Range header: {value!r} is not a number.")
        return int(value)
    return value


def paginate(
    session: Session,
    query: Select[T],
    columns: Mapping[str, InstrumentedAttribute[Any]],
    requested: Range,
) -> Page[T]:
    """Run a query for one page, sorted by the Range attribute."""
    column = columns[requested.attribute]
    if requested.start is not None:
        bound = _coerce(column, requested.start)
        if requested.descending:
            query = query.where(column < bound if requested.start_exclusive else column <= bound)
        else:
            query = query.where(column > bound if requested.start_exclusive else column >= bound)
    if requested.end is not None:
        bound = _coerce(column, requested.end)
        query = query.where(column >= bound if requested.descending else column <= bound)
    query = query.order_by(column.desc() if requested.descending else column.asc())
    rows = list(session.scalars(query.limit(requested.max + 1)).unique().all())
    has_more = len(rows) > requested.max
    items = rows[: requested.max]

    def value_of(item: T) -> str:
        return str(getattr(item, column.key))

    return Page(
        items=items,
        range=requested,
        first_value=value_of(items[0]) if items else None,
        last_value=value_of(items[-1]) if items else None,
        has_more=has_more,
    )


def list_response(
    page: Page[T], present: Callable[[T], BaseModel], sortable: Sequence[str]
) -> JSONResponse:
    """A 200 (complete) or 206 (more to come) list response with the Range headers."""
    requested = page.range
    headers = {
        "Accept-Ranges": ", ".join(sortable),
        "Content-Range": f"{requested.attribute} {page.first_value or ''}..{page.last_value or ''}",
    }
    if page.has_more:
        order = ", order=desc" if requested.descending else ""
        headers["Next-Range"] = (
            f"{requested.attribute} ]{page.last_value}..; max={requested.max}{order}"
        )
    body = [present(item).model_dump(mode="json") for item in page.items]
    return JSONResponse(body, status_code=206 if page.has_more else 200, headers=headers)
