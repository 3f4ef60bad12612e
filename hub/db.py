"""The SQLAlchemy handle and the column types both databases share.

Timestamps are stored as naive UTC on both SQLite and PostgreSQL and come
back timezone-aware, so code never compares a naive value with an aware one
and the two databases behave the same.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import stat
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from flask import Flask, g
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from sqlalchemy import DateTime, MetaData, event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


db = SQLAlchemy(model_class=Base)
migrate = Migrate()


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and returned as aware UTC."""

    impl = DateTime(timezone=False)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: object) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


def rows_changed(result: Any) -> int:
    """How many rows an UPDATE or DELETE touched (``CursorResult.rowcount``, which the ORM's ``Result`` type hides)."""
    return int(result.rowcount)


def reads() -> Connection:
    """This request's connection for plain reads, each statement its own snapshot (autocommit).

    A look-up or a token check is one or two statements that each read a
    consistent snapshot on their own; inside the session's transaction they
    would also pay a ``BEGIN`` and a ``ROLLBACK`` (on PostgreSQL, two more
    round trips to the server per request). Never use it for a read that
    must agree with a write of the same request: those go through
    ``db.session``. Closed when the app context ends (``init_reads``).
    """
    conn: Connection | None = g.get("_reads")
    if conn is None:
        conn = db.engine.connect()
        if conn.dialect.name != "sqlite":
            # SQLite needs no switch: pysqlite opens a transaction only before a write, so each SELECT
            # already reads on its own; switching to autocommit and back cost two PRAGMAs per request.
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        g._reads = conn
    return conn


@contextlib.contextmanager
def writer_turn() -> Iterator[None]:
    """Wait for this process's turn to write, in a queue shared by every worker (SQLite only).

    SQLite lets one writer in at a time; a second one that finds the lock
    taken sleeps in SQLite's busy handler in growing steps (up to 100 ms)
    and often wakes long after the lock was freed, so two gunicorn workers
    pushed less than one. A blocking ``flock`` on a file beside the database
    wakes the next writer as soon as the lock is released. PostgreSQL
    queues its row locks itself: nothing to do there.
    """
    url = db.engine.url
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        yield
        return
    fd = os.open(f"{url.database}-writer", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing releases the lock


def init_reads(app: Flask) -> None:
    @app.teardown_appcontext
    def _close_reads(exc: BaseException | None) -> None:
        conn = g.pop("_reads", None)
        if conn is not None:
            conn.close()


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: object, connection_record: object) -> None:
    """WAL lets pulls read while a push writes; foreign keys are off by default."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
    _owner_only(cursor)
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=FULL")
    # At a million records the database is over a gigabyte: SQLite's default 2 MB page cache
    # made a look-up read its index pages from the file again and again (bench/lifecycle_live.py).
    cursor.execute("PRAGMA cache_size=-32768")  # 32 MiB per connection
    cursor.execute("PRAGMA mmap_size=1073741824")  # reads through the OS page cache, no copy
    _owner_only(cursor)
    cursor.close()


log = logging.getLogger(__name__)

#: the database and the files SQLite keeps beside it (it gives a new -wal or -shm the database's own mode)
_SQLITE_FILES = ("", "-wal", "-shm", "-journal")


def _owner_only(cursor: Any) -> None:
    """The SQLite database and its journal files are readable by the hub's user only (0600, like its keys).

    They hold partners' records and phone numbers. Run at every connection,
    before and after WAL is switched on, so a file made with the default
    umask (0644) is closed to other users before any data is read from it.
    """
    for _seq, _name, path in cursor.execute("PRAGMA database_list").fetchall():
        if not path:  # an in-memory or temporary database
            continue
        for suffix in _SQLITE_FILES:
            name = path + suffix
            try:
                if os.path.exists(name) and stat.S_IMODE(os.stat(name).st_mode) != 0o600:
                    os.chmod(name, 0o600)
            except OSError as exc:  # not ours to change: say so, never fail the connection
                log.warning("could not make %s readable by its owner only: %s", name, exc)
