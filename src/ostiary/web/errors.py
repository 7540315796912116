"""Errors to HTTP, in one place: every error leaves as ``{"id", "message"[, "resource"]}``.

Domain errors (``ostiary.errors``) map by class to a status; framework errors (unknown route,
wrong method, invalid body) are rewritten into the same shape, so no client ever sees an HTML or
framework-default body. Unexpected exceptions are caught by the conventions middleware, which
answers 500 ``internal_server_error`` without internals.

Two kinds of failure that are not the client's fault or a bug are mapped here too:

- the database cannot be reached (a stopped server, a dropped connection, an exhausted pool):
  503 ``service_unavailable`` with ``Retry-After``, from the exception handlers and from the
  middleware's fallback alike (:func:`outage_of`);
- a value the database refuses to store (PostgreSQL: too long for its column, a NUL character):
  422 ``invalid_params``, as any invalid field.
"""

from __future__ import annotations

import json
import logging
import sqlite3
import sys
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy import exc as sa_exc
from starlette.exceptions import HTTPException as StarletteHTTPException

from ostiary import errors
from ostiary.events import record_audit
from ostiary.metrics import DATABASE_ERRORS, count_auth_failure
from ostiary.second_factors.errors import SecondFactorRequired
from ostiary.web.context import request_context, services_of

logger = logging.getLogger("ostiary.errors")

STATUS_BY_ERROR: dict[type[errors.OstiaryError], int] = {
    errors.BadRequest: 400,
    errors.Unauthorized: 401,
    errors.Forbidden: 403,
    errors.NotFound: 404,
    errors.NotAcceptable: 406,
    errors.Conflict: 409,
    errors.PayloadTooLarge: 413,
    errors.InvalidParams: 422,
    errors.RateLimited: 429,
    errors.ServiceUnavailable: 503,
}

# What a lost database raises: through SQLAlchemy (sessions, pool checkouts) and straight from
# the driver (the prepared statements of ``ostiary.prepared`` run on DBAPI connections).
# ``TimeoutError`` is the pool's (no connection free in time) and the SQLite writer lock's.
_OUTAGE_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.OperationalError,
    sa_exc.InterfaceError,
    sa_exc.DisconnectionError,
    sa_exc.TimeoutError,
    sqlite3.OperationalError,
    TimeoutError,
)
# What the database refuses to store: a client's value, not a bug or an outage.
_UNSTORABLE_ERRORS: tuple[type[Exception], ...] = (sa_exc.DataError,)


def _psycopg_errors(*names: str) -> tuple[type[Exception], ...]:
    """psycopg's exception classes of these names, once psycopg is loaded.

    Only a PostgreSQL database loads it (SQLAlchemy imports the driver when the engine is made,
    before the error handlers are installed), and no error of its kind exists before then.
    Importing it here cost every SQLite worker 10 MB of its memory (docs/architecture.md).
    """
    psycopg = sys.modules.get("psycopg")
    return tuple(getattr(psycopg, name) for name in names) if psycopg is not None else ()


def outage_errors() -> tuple[type[Exception], ...]:
    """What a lost database raises, through SQLAlchemy or from the driver."""
    return _OUTAGE_ERRORS + _psycopg_errors("OperationalError", "InterfaceError")


def unstorable_errors() -> tuple[type[Exception], ...]:
    """What the database raises for a value it refuses to store."""
    return _UNSTORABLE_ERRORS + _psycopg_errors("DataError")


RETRY_AFTER_SECONDS = 5

_FRAMEWORK_ERRORS = {
    404: (
        "not_found",
        "The requested API endpoint was not found. Are you using the right HTTP verb and path?",
    ),
    405: ("method_not_allowed", "This endpoint does not support that HTTP method."),
}


def status_of(error: errors.OstiaryError) -> int:
    """The HTTP status of a domain error (the nearest mapped base class wins)."""
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return 500


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The API's error shape."""
    return {"id": code, "message": message, **extra}


def error_response(
    status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    """A JSON error response in the API's shape."""
    return JSONResponse(error_body(code, message, **extra), status_code=status, headers=headers)


def _headers_for(error: errors.OstiaryError) -> dict[str, str]:
    if isinstance(error, errors.Unauthorized):
        return {"WWW-Authenticate": 'Bearer realm="ostiary"'}
    if isinstance(error, SecondFactorRequired):
        # Heroku's clients ask for the code on this header (and the id two_factor).
        return {"Heroku-Two-Factor-Required": "true"}
    if isinstance(error, errors.RateLimited | errors.ServiceUnavailable):
        return {"Retry-After": str(error.retry_after)}
    return {}


def _extra_of(error: errors.OstiaryError) -> dict[str, Any]:
    if isinstance(error, errors.NotFound):
        return {"resource": error.resource}
    if isinstance(error, errors.InvalidParams):
        return {"field": error.field}
    return {}


def rendered(error: errors.OstiaryError) -> tuple[int, bytes, dict[str, str]]:
    """A domain error as (status, JSON body, headers), for the middleware, which answers some
    requests (a bad Host, an oversize body, a lost database) without a route."""
    body = json.dumps(error_body(error.code, error.message, **_extra_of(error))).encode()
    return status_of(error), body, _headers_for(error)


def outage_of(exc: BaseException) -> errors.ServiceUnavailable | None:
    """A 503 when ``exc`` (or what caused it) says the database cannot be reached, else None."""
    seen: BaseException | None = exc
    for _ in range(5):  # the cause chain of a wrapped driver error is short
        if seen is None:
            return None
        if isinstance(seen, outage_errors()):
            return errors.ServiceUnavailable(RETRY_AFTER_SECONDS)
        seen = seen.__cause__ or seen.__context__
    return None


def persist_audit(request: Request, error: errors.OstiaryError) -> None:
    """Record the error's audit event, if any, in a transaction of its own."""
    if error.audit is None:
        return
    count_auth_failure(error.audit.action, error.audit.details.get("reason"))
    database = services_of(request).database
    with database.unit_of_work(write=True) as session:
        record_audit(session, request_context(request), error.audit)


async def handle_domain_error(request: Request, exc: Exception) -> JSONResponse:
    """Render a domain error, recording its audit event in a transaction of its own."""
    assert isinstance(exc, errors.OstiaryError)
    try:
        persist_audit(request, exc)
    except outage_errors() as outage:
        # The audit cannot be written while the database is away; the client learns that.
        logger.warning("audit event not recorded: %s", type(outage).__name__)
        return await handle_outage(request, outage)
    return error_response(
        status_of(exc), exc.code, exc.message, _headers_for(exc), **_extra_of(exc)
    )


async def handle_outage(request: Request, exc: Exception) -> JSONResponse:
    """The database cannot be reached: 503 ``service_unavailable`` with ``Retry-After``."""
    unavailable = outage_of(exc) or errors.ServiceUnavailable(RETRY_AFTER_SECONDS)
    DATABASE_ERRORS.labels(kind="unavailable").inc()
    logger.warning(
        "database unavailable in %s %s: %s", request.method, request.url.path, type(exc).__name__
    )
    return error_response(503, unavailable.code, unavailable.message, _headers_for(unavailable))


async def handle_unstorable(request: Request, exc: Exception) -> JSONResponse:
    """A value the database refuses (too long for its column, a NUL character): 422."""
    DATABASE_ERRORS.labels(kind="unstorable").inc()
    return error_response(
        422,
        "invalid_params",
        "A value in the request cannot be stored: it is too long or contains a NUL character.",
        field="body",
    )


async def handle_http_error(request: Request, exc: Exception) -> JSONResponse:
    """Rewrite the framework's 404 and 405 (and any other HTTPException) into the API's shape."""
    assert isinstance(exc, StarletteHTTPException)
    if exc.status_code == 400 and isinstance(exc.__cause__, ValueError | RecursionError):
        # FastAPI's body parser: not UTF-8, or nested deeper than the JSON decoder goes.
        return error_response(
            422,
            "invalid_params",
            "The request body is not valid JSON (it must be UTF-8 and not nested this deeply).",
            field="body",
        )
    code, message = _FRAMEWORK_ERRORS.get(exc.status_code, ("bad_request", str(exc.detail)))
    return error_response(exc.status_code, code, message, dict(exc.headers or {}))


def _field_name(location: tuple[Any, ...]) -> str:
    parts = [str(part) for part in location if part not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


async def handle_validation_error(request: Request, exc: Exception) -> JSONResponse:
    """Malformed JSON and invalid fields: 422 ``invalid_params`` naming the field."""
    assert isinstance(exc, RequestValidationError)
    problems = list(exc.errors())
    first = problems[0] if problems else {"loc": ("body",), "msg": "Invalid request.", "type": ""}
    if first.get("type") == "json_invalid":
        return error_response(
            422, "invalid_params", "The request body is not valid JSON.", field="body"
        )
    field = _field_name(tuple(first.get("loc", ())))
    message = f"Invalid {field}: {first.get('msg', 'invalid value')}."
    if len(problems) > 1:
        others = sorted({_field_name(tuple(p.get("loc", ()))) for p in problems[1:]} - {field})
        if others:
            message += f" Also check: {', '.join(others)}."
    return error_response(422, "invalid_params", message, field=field)


def internal_error_body() -> bytes:
    """The body of a 500: an id and a message, no internals."""
    return json.dumps(
        error_body("internal_server_error", "Internal server error. Please try again later.")
    ).encode()


def install_error_handlers(app: FastAPI) -> None:
    """Register every error mapping on the application."""
    app.add_exception_handler(errors.OstiaryError, handle_domain_error)
    app.add_exception_handler(StarletteHTTPException, handle_http_error)
    app.add_exception_handler(RequestValidationError, handle_validation_error)
    # After the database's engine was made (create_app), so psycopg's errors are in these when
    # the database is PostgreSQL.
    for outage in outage_errors():
        app.add_exception_handler(outage, handle_outage)
    for unstorable in unstorable_errors():
        app.add_exception_handler(unstorable, handle_unstorable)
