"""Prepared statements: SQLAlchemy statements compiled once per dialect and run straight on a
DBAPI connection, for the few paths that run on every request.

- :class:`PreparedQuery`: a lookup (the bearer token behind an API call, the client behind a token
  or introspection request, the token being introspected) on a connection each thread keeps,
  outside any transaction. A single statement in a transaction of its own always sees the
  latest committed row: nothing is cached, and a revocation counts on the next request.
- :class:`DirectTransaction`: a short write transaction (issuing a client-credentials token). An
  INSERT gets the table's Python-side column defaults (``default=``) for the columns it leaves out,
  as the ORM would, and one that leaves out a required column fails when it is compiled.
- :class:`ReadModel`: how a lookup's row becomes a frozen dataclass: each field reads a labelled
  column, found by its label, and is converted by the field's type.

Measured on these machines, an ORM session per request halves throughput, and SQLAlchemy's
per-execution machinery (autobegin, pool checkout, execution context) costs as much again as the
SQL it runs: a transaction of three inserts took 600 us through a Session or ``engine.begin()``
and 180 us on the DBAPI connection (docs/architecture.md). Parameters still go through each
column type's bind processor, so stored values are exactly what the ORM would store.

Values come back as the driver gives them: SQLite hands back JSON as text, timestamps as ISO text
and booleans as integers; PostgreSQL parses all three. A read model's converters even that out:
:func:`as_utc` for timestamps, :func:`as_list` for JSON arrays, ``bool`` for booleans.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import json
import threading
import types
import typing
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from sqlalchemy import (
    ColumnElement,
    Engine,
    Executable,
    Insert,
    Label,
    Result,
    Select,
    Table,
    select,
)
from sqlalchemy.engine import Dialect

if typing.TYPE_CHECKING:
    from ostiary.libpq_lookup import LibpqLookup

AnySelect = Select[*tuple[Any, ...]]
Model = TypeVar("Model")
Row = Sequence[Any]


class MissingColumnError(ValueError):
    """An INSERT leaves out a column the table requires: not nullable, with no default."""


def _required_columns(statement: Insert, supplied: Iterable[str]) -> list[str]:
    """The columns an INSERT of ``supplied`` leaves out although the database needs a value."""
    table = statement.table
    assert isinstance(table, Table)
    given = set(supplied)
    return [
        column.key
        for column in table.columns
        if column.key not in given
        and not column.nullable
        and column.default is None
        and column.server_default is None
        and column is not table.autoincrement_column
    ]


class PreparedSQL:
    """A statement compiled for one dialect, and the bind processing of its parameters.

    An INSERT is compiled for ``column_keys`` (the columns the caller provides) and the columns
    left out that have a Python-side default: :meth:`parameters` computes those defaults anew for
    every execution, as the ORM does. A required column left out (not nullable, no default, no
    server default) raises :class:`MissingColumnError` here, when the statement is compiled.
    """

    def __init__(
        self, dialect: Dialect, statement: Executable, column_keys: list[str] | None = None
    ) -> None:
        if isinstance(statement, Insert) and column_keys is not None:
            missing = _required_columns(statement, column_keys)
            if missing:
                raise MissingColumnError(
                    f"INSERT INTO {statement.table} leaves out {', '.join(missing)}: "
                    "not nullable, and no default"
                )
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)  # type: ignore[attr-defined]
        self.sql = str(compiled)
        self._positions: list[str] | None = (
            list(compiled.positiontup) if compiled.positional else None
        )
        self.uncast = sorted(
            bind.key
            for bind in compiled.binds.values()
            if not bind.type._unwrapped_dialect_impl(dialect).render_bind_cast
        )
        """The bind parameters the SQL does not cast to their type (on a dialect that casts
        none, every one)."""
        self.expanded = sorted(compiled.post_compile_params)
        """Parameters rendered when the statement runs (an expanding ``IN``), not compiled."""
        self._processors = {
            name: processor
            for name, bind in compiled.binds.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }
        # The columns SQLAlchemy expects a Python-side default for (its "prefetch"): the ones
        # left out of an INSERT whose ``default=`` is a value or a callable.
        self._defaults = [(column.key, column.default) for column in compiled.insert_prefetch]

    @property
    def positions(self) -> list[str]:
        """The parameters' names in the order a positional style sends them."""
        return self._positions or []

    def parameters(self, params: dict[str, Any]) -> Any:
        """``params`` as the driver takes them: defaults added, values processed, and in order
        for positional styles."""
        if self._defaults:
            params = dict(params)
            for key, default in self._defaults:
                # A callable default is wrapped by SQLAlchemy to take an execution context,
                # which a direct transaction does not have; the defaults here need none.
                params[key] = default.arg(None) if default.is_callable else default.arg
        processors = self._processors
        if self._positions is None:
            return {
                name: processors[name](value) if name in processors else value
                for name, value in params.items()
            }
        return tuple(
            processors[name](params[name]) if name in processors else params[name]
            for name in self._positions
        )


class ThreadConnections:
    """The DBAPI connection each thread keeps out of an engine's pool for prepared statements:
    for lookups, or for one direct transaction at a time.

    A connection is never switched to autocommit: one switched behind SQLAlchemy's back went
    back to the pool in autocommit when its thread ended, and a session that got it next could
    not roll back. None needs it: on PostgreSQL a lookup runs through libpq, each statement in
    a transaction of its own (:mod:`ostiary.libpq_lookup`); SQLite's connections are always in
    autocommit (``db._configure_sqlite``), and a direct transaction begins explicitly.
    """

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._local = threading.local()

    def get(self) -> Any:
        """This thread's connection, opened on first use."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self._local.connection = self.engine.raw_connection()
        return connection

    def close(self) -> None:
        """Close this thread's connection and forget every other thread's, which goes back to
        the pool as when its thread ends (the database is being disposed of); a thread that
        uses this again opens a new one."""
        connection = getattr(self._local, "connection", None)
        self._local = threading.local()
        if connection is not None:
            with contextlib.suppress(Exception):  # already closed or broken: nothing to free
                connection.close()

    def discard(self, connection: Any) -> None:
        """Throw away a connection that failed; the next use opens a new one."""
        connection.invalidate()
        self._local.connection = None


class PreparedQuery:
    """One SELECT, compiled for one engine's dialect, with bound parameters by name.

    A connection that lost its server is invalidated and replaced once, so a database restart
    costs one retried lookup, not an error; any other error is raised as the driver's, on a
    connection that stays in use. On PostgreSQL the SELECT runs through libpq, prepared once per
    connection (:mod:`ostiary.libpq_lookup`); on SQLite through the driver's cursor.
    """

    def __init__(self, connections: ThreadConnections, statement: AnySelect) -> None:
        dialect = connections.engine.dialect
        self._connections = connections
        self._dialect = dialect
        self._libpq: LibpqLookup | None = None
        if dialect.name == "postgresql":
            self._prepared = PreparedSQL(_numbering_parameters(dialect), statement)
            if self._prepared.uncast:
                # libpq sends every value as text of no declared type: without a cast the
                # server would guess one (a boolean in the select list comes back as 't').
                raise TypeError(
                    f"{len(self._prepared.uncast)} bind parameters "
                    f"({', '.join(self._prepared.uncast)}) are not cast to a type in the SQL "
                    "(no type, or one such as Boolean or Float that the psycopg dialect does "
                    "not cast): compare with a literal or another column"
                )
            if self._prepared.expanded:
                raise TypeError("a prepared lookup takes no expanding IN (...) parameter")
            # Imported here: only a PostgreSQL database loads psycopg (9 MB a worker).
            from ostiary.libpq_lookup import LibpqLookup

            self._libpq = LibpqLookup(self._prepared.sql, len(self._prepared.positions))
        else:
            self._prepared = PreparedSQL(dialect, statement)
        self._dbapi_error: type[Exception] = dialect.loaded_dbapi.Error
        self._labels = tuple(statement.selected_columns.keys())
        self._readers: dict[ReadModel[Any], Callable[[Row], Any]] = {}

    def first_as(self, model: ReadModel[Model], **params: Any) -> Model | None:
        """The first row for these parameters as ``model``, or None."""
        row = self._first(params)
        if row is None:
            return None
        reader = self._readers.get(model)
        if reader is None:
            reader = self._readers[model] = model.reader(self._labels)
        return reader(row)

    def first(self, **params: Any) -> tuple[Any, ...] | None:
        """The first row for these parameters, or None."""
        return self._first(params)

    def _first(self, params: dict[str, Any]) -> tuple[Any, ...] | None:
        bound = self._prepared.parameters(params)
        for attempt in range(2):
            connection = self._connections.get()
            try:
                if self._libpq is not None:
                    row = self._libpq.first(connection, bound)
                else:
                    cursor = connection.cursor()
                    try:
                        cursor.execute(self._prepared.sql, bound)
                        row = cursor.fetchone()
                    finally:
                        cursor.close()
            except self._dbapi_error as error:
                # A statement's own error (a value the column cannot take) leaves the connection
                # sound; only one that lost its server is replaced, and the lookup retried.
                if not self._dialect.is_disconnect(error, connection, None):  # type: ignore[arg-type]
                    raise
                self._connections.discard(connection)
                if attempt:
                    raise
                continue
            return tuple(row) if row is not None else None
        return None


def _numbering_parameters(dialect: Dialect) -> Dialect:
    """A copy of ``dialect`` compiling ``$1, $2...`` parameters, as libpq numbers them."""
    numbering = copy.copy(dialect)
    numbering.paramstyle = "numeric_dollar"
    numbering.positional = True
    # The identifier preparer read the paramstyle when it was made (whether to double a %).
    numbering.identifier_preparer = numbering.preparer(numbering)
    return numbering


class DirectTransaction:
    """A write transaction on a DBAPI connection, run by :meth:`Database.direct_write`."""

    def __init__(
        self,
        connection: Any,
        prepare: Callable[[Executable, list[str]], PreparedSQL],
        *,
        sole_writer: bool = False,
    ):
        self._cursor = connection.cursor()
        self._prepare = prepare
        self.sole_writer = sole_writer
        """Whether no other write transaction runs meanwhile (SQLite's one writer): what the
        writers lock to order themselves with the others' changes is held already."""
        self.found: dict[Any, Any] = {}
        """What the transaction's writers looked up, for the next writer of the same batch
        (``ostiary.group_commit``): valid until this transaction ends, and only in it."""

    def close(self) -> None:
        """Release the cursor."""
        self._cursor.close()

    def first(self, statement: Executable, **params: Any) -> tuple[Any, ...] | None:
        """The first row ``statement`` returns."""
        prepared = self._prepare(statement, sorted(params))
        self._cursor.execute(prepared.sql, prepared.parameters(params))
        row = self._cursor.fetchone()
        return tuple(row) if row is not None else None

    def rows(self, statement: Executable, **params: Any) -> list[tuple[Any, ...]]:
        """Every row ``statement`` returns."""
        prepared = self._prepare(statement, sorted(params))
        self._cursor.execute(prepared.sql, prepared.parameters(params))
        return [tuple(row) for row in self._cursor.fetchall()]

    def execute(self, statement: Executable, **params: Any) -> None:
        """Run a statement whose rows are not read: an INSERT, UPDATE or DELETE, or a lock."""
        prepared = self._prepare(statement, sorted(params))
        self._cursor.execute(prepared.sql, prepared.parameters(params))


class ReadModel(Generic[Model]):
    """How rows become a read model: a frozen dataclass, and what each of its fields reads.

    A field reads, in order of precedence: the source given by its name in ``sources``, or the
    column of ``table`` with its name. A source is a column (or any SQL expression), another
    read model (the field holds that model, read from the same row under labels prefixed with
    ``<field>__``), or a plain value the field always holds. Every field without a default must
    have one; a source no field takes is an error.

    :meth:`select` selects the columns labelled with their fields' names; add joins and a WHERE
    to it. Rows are read by label, whatever the columns' order: :meth:`reader`, or
    :meth:`PreparedQuery.first_as`. Each field's value is converted by its declared type:
    ``datetime`` by :func:`as_utc`, ``list`` by :func:`as_list`, ``bool`` by ``bool``
    (optional ones keep None); anything else is taken as the driver gives it.
    """

    def __init__(self, model: type[Model], table: Table | None = None, **sources: Any) -> None:
        self.model = model
        types_ = typing.get_type_hints(model)
        # What each field reads, in the dataclass's order: a column, a read model, or a value.
        self._reads: dict[str, ColumnElement[Any] | ReadModel[Any] | _Constant] = {}
        self._converters: dict[str, Callable[[Any], Any] | None] = {}
        self._positional = True  # no field left to its default: the model is called by position
        for field in dataclasses.fields(model):  # type: ignore[arg-type]
            if not field.init:
                continue
            name = field.name
            if name in sources:
                source = sources.pop(name)
            elif table is not None and name in table.columns:
                source = table.columns[name]
            elif field.default is not dataclasses.MISSING:
                self._positional = False
                continue
            else:
                raise TypeError(f"{model.__name__}.{name} reads no column")
            if hasattr(source, "__clause_element__"):  # an ORM attribute: its column
                source = source.__clause_element__()
            if isinstance(source, ColumnElement | ReadModel):
                self._reads[name] = source
                self._converters[name] = _converter_for(types_[name])
            else:
                self._reads[name] = _Constant(source)
        if sources:
            raise TypeError(f"{model.__name__} has no field {', '.join(sources)}")

    def columns(self, prefix: str = "") -> list[Label[Any]]:
        """The columns this model reads, each labelled ``prefix`` + its field's name."""
        labelled: list[Label[Any]] = []
        for name, source in self._reads.items():
            if isinstance(source, ReadModel):
                labelled.extend(source.columns(f"{prefix}{name}__"))
            elif not isinstance(source, _Constant):
                labelled.append(source.label(f"{prefix}{name}"))
        return labelled

    def select(self) -> AnySelect:
        """A SELECT of :meth:`columns`; add the FROM, joins and WHERE of a lookup to it."""
        return select(*self.columns())

    def reader(self, labels: Sequence[str], prefix: str = "") -> Callable[[Row], Model]:
        """A function turning a row whose columns carry ``labels`` into the model (its fields'
        under ``prefix`` + their names, as :meth:`columns` labels them).

        Its code is generated once, as ``dataclasses`` generates ``__init__``: a call of the
        model with each field's converted ``row[position]``, as one would write by hand; a
        closure per field cost half as much again (docs/architecture.md).
        """
        namespace: dict[str, Any] = {}
        expression = self._expression(
            {label: i for i, label in enumerate(labels)}, prefix, namespace
        )
        exec(f"def read(row):\n    return {expression}\n", namespace)  # noqa: S102 (our own code)
        return namespace["read"]  # type: ignore[no-any-return]

    def _expression(self, position: dict[str, int], prefix: str, namespace: dict[str, Any]) -> str:
        """The Python expression building this model from ``row``; names it uses go in
        ``namespace``."""

        def name_for(value: Any) -> str:
            name = f"_{len(namespace)}"
            namespace[name] = value
            return name

        arguments = []
        for field, source in self._reads.items():
            label = f"{prefix}{field}"
            if isinstance(source, ReadModel):
                value = source._expression(position, f"{label}__", namespace)
            elif isinstance(source, _Constant):
                value = name_for(source.value)
            elif label not in position:
                raise KeyError(f"the query has no column labelled {label!r}")
            elif (convert := self._converters[field]) is None:
                value = f"row[{position[label]}]"
            else:
                value = f"{name_for(convert)}(row[{position[label]}])"
            # By position when every field is given: a little cheaper than by keyword.
            arguments.append(value if self._positional else f"{field}={value}")
        return f"{name_for(self.model)}({', '.join(arguments)})"

    def first_of(self, result: Result[Any]) -> Model | None:
        """The first row of ``result`` as the model, or None: for a query run through a session
        or a connection rather than prepared (off the hot paths)."""
        labels = tuple(result.keys())
        row = result.first()
        return None if row is None else self.reader(labels)(row)


@dataclasses.dataclass(frozen=True, slots=True)
class _Constant:
    """A value a read model's field holds whatever the row."""

    value: Any


def _converter_for(annotation: Any) -> Callable[[Any], Any] | None:
    """How a value of a field declared ``annotation`` comes from the driver (None: as is)."""
    optional = False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        members = [member for member in typing.get_args(annotation) if member is not type(None)]
        optional = len(members) < len(typing.get_args(annotation))
        annotation = members[0] if len(members) == 1 else annotation
    if annotation is datetime:
        return as_utc
    if annotation is list or typing.get_origin(annotation) is list:
        return as_list
    if annotation is bool:
        return _as_optional_bool if optional else bool
    return None


def _as_optional_bool(value: Any) -> bool | None:
    return None if value is None else bool(value)


def as_list(value: Any) -> list[Any] | None:
    """A JSON array column's value as a list (None stays None)."""
    if value is None:
        return None
    return json.loads(value) if isinstance(value, str) else list(value)


def as_utc(value: Any) -> datetime | None:
    """A stored timestamp (naive UTC, or ISO text from SQLite) as an aware UTC datetime.

    The hot paths read several per request: ``replace(tzinfo=UTC)`` cost six times as much as
    parsing the text with its offset, or ``datetime.combine`` (0.7 against 0.12 us).
    """
    if value is None:
        return None
    if isinstance(value, str):
        return datetime.fromisoformat(value + "+00:00")
    return datetime.combine(value, value.time(), UTC)
