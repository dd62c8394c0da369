"""Running the store's prebuilt Core statements; on SQLite straight on the driver's cursor.

For a small statement SQLAlchemy spends several times longer preparing the execution (cache
lookup, execution context, events, result metadata) than SQLite spends running it, and the busy
paths run several statements per part. So on SQLite each statement is compiled once by
SQLAlchemy's own compiler, with its own type processors for parameters and results, and then
run on the sqlite3 connection of the current transaction; driver errors are wrapped as
SQLAlchemy's (IntegrityError, OperationalError...), as Connection.execute would. Other dialects,
parameter lists (executemany) and statements with expanding IN parameters go through
Connection.execute. Rows have the columns as attributes in both cases.
"""

from __future__ import annotations

import collections
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import Connection, Executable, Insert, exc
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

Params = Mapping[str, Any]
_REQUIRED = object()


@dataclass(frozen=True, slots=True)
class _Prepared:
    sql: str
    # Per "?" in order: the parameter's name, its value when the caller gives none (or
    # _REQUIRED), and its type's bind processor.
    binds: tuple[tuple[str, Any, Callable[[Any], Any] | None], ...]
    row: type[tuple[Any, ...]] | None  # a namedtuple of the result columns; None: no result
    processors: tuple[tuple[int, Callable[[Any], Any]], ...]  # (column index, processor)


_prepared: dict[tuple[Executable, tuple[str, ...] | None], _Prepared | None] = {}


def _prepare(connection: Connection, statement: Executable, params: Params) -> _Prepared | None:
    """The SQLite form of `statement` (per set of columns for an INSERT); None when it must go
    through SQLAlchemy (an expanding parameter)."""
    columns = tuple(sorted(params)) if isinstance(statement, Insert) else None
    key = (statement, columns)
    if key in _prepared:
        return _prepared[key]
    dialect = connection.dialect
    compiled = cast(ClauseElement, statement).compile(
        dialect=dialect, column_keys=list(columns or ()) or None
    )
    assert isinstance(compiled, SQLCompiler)
    prepared: _Prepared | None = None
    if compiled.positiontup is not None and not any(
        bind.expanding for bind in compiled.binds.values()
    ):
        binds = []
        for name in compiled.positiontup:
            bind = compiled.binds[name]
            default = _REQUIRED if bind.required else bind.effective_value
            binds.append((name, default, bind.type.dialect_impl(dialect).bind_processor(dialect)))
        exported = list(getattr(statement, "exported_columns", ()))
        row: type[tuple[Any, ...]] | None = None
        processors = []
        if exported:
            row = _row_class([str(c.key) for c in exported])
            for index, column in enumerate(exported):
                processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
                if processor is not None:
                    processors.append((index, processor))
        prepared = _Prepared(compiled.string, tuple(binds), row, tuple(processors))
    _prepared[key] = prepared
    return prepared


def _on_sqlite3(connection: Connection) -> bool:
    """A sqlite3 connection is at hand (the store's threads and inline write sessions; not
    aiosqlite's, which must be used from its own thread)."""
    driver = connection.connection.driver_connection
    return isinstance(getattr(driver, "sqlite3_connection", driver), sqlite3.Connection)


def _row_class(names: list[str]) -> type[tuple[Any, ...]]:
    made: type[tuple[Any, ...]] = collections.namedtuple("Row", names, rename=True)  # type: ignore[misc]  # fields known at run time
    return made


def _run_sqlite(connection: Connection, prepared: _Prepared, params: Params) -> list[Any]:
    values = []
    for name, default, processor in prepared.binds:
        value = params.get(name, default)
        if value is _REQUIRED:
            raise exc.ArgumentError(f"a value is required for bind parameter {name!r}")
        values.append(processor(value) if processor is not None else value)
    driver = connection.connection.driver_connection
    raw = getattr(driver, "sqlite3_connection", driver)
    assert isinstance(raw, sqlite3.Connection)
    try:
        cursor = raw.execute(prepared.sql, values)
        fetched = cursor.fetchall() if prepared.row is not None else []
    except sqlite3.Error as error:
        raise exc.DBAPIError.instance(prepared.sql, values, error, sqlite3.Error) from error
    if not fetched:
        return []
    make = prepared.row
    assert make is not None
    if not prepared.processors:
        return [make(*values) for values in fetched]
    rows = []
    for fetched_row in fetched:
        out = list(fetched_row)
        for index, processor in prepared.processors:
            out[index] = processor(out[index])
        rows.append(make(*out))
    return rows


def rows(
    connection: Connection, statement: Executable, params: Params | None = None
) -> list[Any]:
    """Every result row of `statement` (none for a statement without RETURNING)."""
    params = params or {}
    if connection.dialect.name == "sqlite" and _on_sqlite3(connection):
        prepared = _prepare(connection, statement, params)
        if prepared is not None:
            return _run_sqlite(connection, prepared, params)
    result = connection.execute(statement, params)
    return list(result) if result.returns_rows else []


def execute_many(
    connection: Connection, statement: Executable, params: Sequence[Params]
) -> list[Any]:
    """`statement` once per parameter set (an INSERT of many rows); RETURNING rows in order."""
    if len(params) == 1:
        return rows(connection, statement, params[0])
    result = connection.execute(statement, list(params))
    return list(result) if result.returns_rows else []


def first(
    connection: Connection, statement: Executable, params: Params | None = None
) -> Any | None:
    found = rows(connection, statement, params)
    return found[0] if found else None


def one(connection: Connection, statement: Executable, params: Params | None = None) -> Any:
    found = rows(connection, statement, params)
    if len(found) != 1:
        raise exc.NoResultFound("no row") if not found else exc.MultipleResultsFound("rows")
    return found[0]


def value(connection: Connection, statement: Executable, params: Params | None = None) -> Any:
    """The first column of the first row; None without a row."""
    found = first(connection, statement, params)
    return found[0] if found is not None else None


def values(
    connection: Connection, statement: Executable, params: Params | None = None
) -> list[Any]:
    """The first column of every row."""
    return [row[0] for row in rows(connection, statement, params)]
