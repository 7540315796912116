"""Range pagination, as Heroku's API does it.

A request may send ``Range: <attribute> [start]..[end][; max=N, order=desc]``. A start beginning
with ``]`` is exclusive (that is how ``Next-Range`` continues after the last item sent). Lists
answer 200 when complete and 206 with ``Next-Range`` when more items remain, never on the last
page (the heroku CLI follows ``Next-Range`` on every list and would loop). ``Content-Range`` names
the first and last items sent; ``Accept-Ranges`` the sortable attributes.

Values in ``Content-Range`` and ``Next-Range`` are percent-encoded (RFC 3986 section 2.1) beyond
letters, digits and ``-_~:@+``, and start and end values are percent-decoded when parsed. A
header is latin-1 at best and HTTP forbids control characters in it, while a client's name may be
``日本 app``, hold a space, a dot (``..`` is the separator) or a newline; encoded, every name
fits in a header and comes back unchanged when a client follows ``Next-Range``. ids and release
versions never change. (Heroku's own values, ids and ASCII names, are the same either way.)
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Generic, TypeVar
from urllib.parse import quote, unquote

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
_MAX = re.compile(r"^[0-9]{1,4}$")
_INTEGER = re.compile(r"^-?[0-9]{1,18}$")  # fits the 64-bit columns of SQLite and PostgreSQL
_SAFE = "-_~:@+"  # besides ASCII letters and digits; never "." (the separator), space or ";"

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
                not _MAX.match(param.group("value"))
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
    end = match.group("end") or None
    return Range(attribute, _decoded(start), exclusive, _decoded(end), limit, descending)


def encode_value(value: str) -> str:
    """A Range value as it appears in a header: ASCII, without separators or controls."""
    return quote(value, safe=_SAFE).replace(".", "%2E")


def _decoded(value: str | None) -> str | None:
    if value is None:
        return None
    with contextlib.suppress(UnicodeError):  # a header arrives as latin-1; raw UTF-8 stays UTF-8
        value = value.encode("latin-1").decode("utf-8")
    text = unquote(value)
    if "\x00" in text:
        raise BadRequest("Invalid Range header: values cannot contain NUL.")
    return text


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
        if not _INTEGER.match(value):
            raise BadRequest(f"Invalid Range header: {value!r} is not a number.")
        return int(value)
    return value


def within(
    query: Select[T],
    column: InstrumentedAttribute[Any],
    requested: Range,
    bound_of: Callable[[str], Any],
    tiebreak: InstrumentedAttribute[Any] | None = None,
) -> Select[T]:
    """``query`` limited to the Range's start and end on ``column`` (each read by ``bound_of``,
    which refuses a malformed one) and sorted by it in the Range's order, then by ``tiebreak``."""
    if requested.start is not None:
        bound = bound_of(requested.start)
        if requested.descending:
            query = query.where(column < bound if requested.start_exclusive else column <= bound)
        else:
            query = query.where(column > bound if requested.start_exclusive else column >= bound)
    if requested.end is not None:
        bound = bound_of(requested.end)
        query = query.where(column >= bound if requested.descending else column <= bound)
    order = [column.desc() if requested.descending else column.asc()]
    if tiebreak is not None:
        order.append(tiebreak.desc() if requested.descending else tiebreak.asc())
    return query.order_by(*order)


def paginate(
    session: Session,
    query: Select[T],
    columns: Mapping[str, InstrumentedAttribute[Any]],
    requested: Range,
) -> Page[T]:
    """Run a query for one page, sorted by the Range attribute."""
    column = columns[requested.attribute]
    query = within(query, column, requested, lambda value: _coerce(column, value))
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
    first = encode_value(page.first_value or "")
    last = encode_value(page.last_value or "")
    headers = {
        "Accept-Ranges": ", ".join(sortable),
        "Content-Range": f"{requested.attribute} {first}..{last}",
    }
    if page.has_more:
        order = ", order=desc" if requested.descending else ""
        headers["Next-Range"] = f"{requested.attribute} ]{last}..; max={requested.max}{order}"
    body = [present(item).model_dump(mode="json") for item in page.items]
    return JSONResponse(body, status_code=206 if page.has_more else 200, headers=headers)
