"""One small SELECT run straight on the driver's cursor, for the reads every request pays.

Why: a token check and a reassignment question are each one indexed
statement that SQLite answers in about 4 microseconds, but
``Connection.execute`` wraps it in about 15 more (the statement's cache key,
an execution context, parameter processing, a ``Result``), and under
gunicorn that path cost a single question about a tenth of its time
(bench/lifecycle_live.py; issue 13's target is a question at 0.6 of
``/healthz``).

The SQL is still SQLAlchemy's: the statement is built with the Core and
compiled by the connection's own dialect, once per dialect. Only the
execution is the driver's: parameters bound as the compiled statement says,
each result value passed through its column type's result processor, so a
row is what ``Connection.execute`` would have returned (tests/test_hotread.py
compares the two on both databases). Statements whose parameters need
processing (an ``IN`` list, a type with a bind processor) are refused when
compiled: they are not what this is for.

A driver error is not handled here: the statement is run again through
``Connection.execute``, whose error handling (a dropped connection
invalidated, the error wrapped) then applies.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Connection, Dialect


class NotAHotRead(TypeError):
    """The statement needs what only ``Connection.execute`` does (parameter processing, expanding lists)."""


@dataclass(frozen=True)
class _Compiled:
    sql: str
    #: the parameter names in order, for a positional paramstyle (SQLite's ``?``); None for named (psycopg)
    order: tuple[str, ...] | None
    #: values the statement binds itself (a literal in a WHERE clause)
    fixed: Mapping[str, Any]
    processors: tuple[Callable[[Any], Any] | None, ...]


class HotRead:
    """``statement`` run on the driver's cursor of a connection that reads outside any transaction; one row read."""

    def __init__(self, statement: Select[*tuple[Any, ...]]) -> None:
        self.statement = statement
        self._by_dialect: dict[type[Dialect], _Compiled] = {}
        self._lock = threading.Lock()

    def _compile(self, dialect: Dialect) -> _Compiled:
        key = type(dialect)  # one class per database and driver (sqlite+pysqlite, postgresql+psycopg)
        found = self._by_dialect.get(key)
        if found is not None:
            return found
        compiled = self.statement.compile(dialect=dialect)
        for name, bind in compiled.binds.items():
            if bind.expanding or bind.type.dialect_impl(dialect).bind_processor(dialect) is not None:
                raise NotAHotRead(f"parameter {name!r} needs processing: run this statement with Connection.execute")
        if getattr(compiled, "escaped_bind_names", None):
            raise NotAHotRead("parameter names the dialect escapes: run this statement with Connection.execute")
        processors = tuple(
            column.type.dialect_impl(dialect).result_processor(dialect, None)
            for column in self.statement.selected_columns
        )
        positions = compiled.positiontup
        made = _Compiled(
            sql=compiled.string,
            order=tuple(positions) if positions is not None else None,
            fixed={k: v for k, v in compiled.params.items() if v is not None},
            processors=processors,
        )
        with self._lock:
            self._by_dialect[key] = made
        return made

    def first(self, conn: Connection, params: Mapping[str, Any]) -> tuple[Any, ...] | None:
        """The first row (processed as ``Connection.execute`` would), or None.

        ``conn`` must read outside any transaction (``hub.db.reads()``:
        autocommit on PostgreSQL; on SQLite a SELECT opens none), since the
        driver's cursor runs behind SQLAlchemy's back.
        """
        compiled = self._compile(conn.dialect)
        bound = {**compiled.fixed, **params}
        args: Any = tuple(bound[name] for name in compiled.order) if compiled.order is not None else bound
        try:
            cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
            try:
                cursor.execute(compiled.sql, args)
                row = cursor.fetchone()
            finally:
                cursor.close()
        except Exception:  # noqa: BLE001 - SQLAlchemy's own path decides what the error means
            found = conn.execute(self.statement, dict(params)).first()
            return tuple(found) if found is not None else None
        if row is None:
            return None
        return tuple(p(v) if p is not None else v for p, v in zip(compiled.processors, row, strict=True))
