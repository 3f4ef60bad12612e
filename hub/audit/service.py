"""Writing the audit trail, reading it back, and the retention prune.

Where the row is written: at the end of the read, in the request, before
the answer leaves, in bulk per request (DESIGN.md), in its own short
transaction right after the read's (``_relaxed_commit`` says why that one
does not wait for the disk). If the write fails the request fails: no
partner data leaves the hub without its row. One row per request, whatever the page
size.

How a number is found again (``GET /v1/audit?number=``) without making a
pull pay for it: a number the read named directly (a look-up, a record
fetch, a log read, a report) gets an ``audit_numbers`` row; the records a
pull (or a feed page) served get an ``audit_seqs`` row per record, keyed
by the record's ``seq``, and are found by number through the records' own
index ``records(number, seq)``. A pull's seqs are ascending and mostly
recent, so its thousand keys land on a few neighbouring b-tree pages;
a thousand numbers would land on a thousand pages (measured: that made the
audit cost a pull of 1,000 records a third of its CPU).

Why the ids are gap-free: ``GET /v1/audit`` pages by ``id`` with ``after``,
as pulls page by ``seq``. Rows are written concurrently by every worker of
every instance; with a plain sequence a row could commit after a reader had
already moved its cursor past its id, and that reader would never see it.
So, exactly as the log's ``seq`` (DESIGN.md, "The hot path"), the id is
taken from a counter row (``counters.name = 'audit'``) bumped inside the
writing transaction: writers serialize on that one row for the
milliseconds between taking the id and committing, so commit order is id
order, and a reader that sees id N has seen every id below it. The bump is
an upsert, so a database without the row (a fresh schema) starts at 1.

Append-only: this module has no update path, and the migration adds a
trigger refusing UPDATE on its tables (both databases). Rows leave only
through ``prune`` (``AUDIT_RETENTION_DAYS``), which several workers may run
at once: on PostgreSQL each batch first takes a transaction advisory lock
and a worker that does not get it stops (another is pruning); on SQLite the
database lock serializes them. Deleting a row twice deletes nothing.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

import orjson
from flask import current_app, has_request_context, request
from sqlalchemy import Connection, delete, func, select, text, union
from sqlalchemy.dialects import postgresql, sqlite

from hub import clock
from hub.auth.protect import Caller
from hub.db import db, rows_changed, writer_turn
from hub.ledger.models import Counter
from hub.records.models import Record

from .models import AuditEntry, AuditNumber, AuditSeq

COUNTER = "audit"
#: Ministry pages of the trail (``GET /v1/audit``): at most this many rows.
MAX_PAGE = 1000
#: Rows the prune deletes per transaction (short transactions: readers and writers keep going).
PRUNE_BATCH = 1000
#: pg_advisory_xact_lock key of the prune ("tangkal audit" in ASCII, truncated to 63 bits).
PRUNE_LOCK = 0x74616E676B616C61

_RULE_PARAM = re.compile(r"<(?:[a-z]+:)?([a-zA-Z_]+)>")


def _take_statement(dialect: Any) -> Any:
    return (
        dialect.insert(Counter)
        .values(name=COUNTER, value=1)
        .on_conflict_do_update(index_elements=[Counter.name], set_={"value": Counter.value + 1})
        .returning(Counter.value)
    )


_TAKE = {"postgresql": _take_statement(postgresql), "sqlite": _take_statement(sqlite)}
_INSERT_ENTRY = AuditEntry.__table__.insert()


def _expand(table: str, column: str) -> dict[str, Any]:
    """``INSERT INTO table (column, audit_id)`` from one bound JSON list, per dialect.

    The database expands the list, instead of SQLAlchemy binding a thousand
    parameter sets (two thirds of the write's CPU, measured).
    """
    head = f"INSERT INTO {table} ({column}, audit_id) "
    return {
        "sqlite": text(head + "SELECT value, :id FROM json_each(:values)"),
        "postgresql": text(head + "SELECT value, :id FROM json_array_elements_text(CAST(:values AS json))"),
    }


_INSERT_NUMBERS = _expand("audit_numbers", "number")
_INSERT_SEQS = {
    "sqlite": _expand("audit_seqs", "seq")["sqlite"],
    "postgresql": text(
        "INSERT INTO audit_seqs (seq, audit_id) "
        "SELECT CAST(value AS bigint), :id FROM json_array_elements_text(CAST(:values AS json))"
    ),
}


class ReadItem(Protocol):
    """A record an answer served (hub.records.views.PulledItem is one)."""

    @property
    def seq(self) -> int: ...

    @property
    def id(self) -> str: ...

    @property
    def number(self) -> str: ...


@dataclass(frozen=True, slots=True)
class AuditRow:
    """A row as ``GET /v1/audit`` serves it."""

    id: int
    at: datetime
    partner: str
    endpoint: str
    numbers: list[str]
    ids: list[str]
    count: int


def enabled() -> bool:
    """``AUDIT_ENABLED`` (default true): off only to measure what the trail costs (bench/audit_cost.py)."""
    return bool(current_app.config.get("AUDIT_ENABLED", True))


def endpoint_of_request() -> str:
    """``GET /v1/numbers/{number}``: the method and the route's template, never the values in the path."""
    rule = request.url_rule
    path = _RULE_PARAM.sub(r"{\1}", rule.rule) if rule is not None else "(unmatched)"
    return f"{request.method} {path}"


def record(
    caller: Caller | str,
    *,
    count: int,
    numbers: Iterable[str] = (),
    ids: Iterable[str] = (),
    items: Sequence[ReadItem] = (),
    endpoint: str | None = None,
) -> int | None:
    """Write the audit row of this read and commit; its id (None when ``AUDIT_ENABLED`` is off).

    ``caller``: the reader (its partner id). ``count``: how many items the
    answer holds. ``numbers``: E.164 numbers the read named (a look-up's
    number, the numbers in log entries or a report); never a number the
    caller only asked about by hash prefix. ``ids``: what was read, in the
    endpoint's own terms (record or report ids, a log range, a hash
    prefix). ``items``: records served (a pull's page): only their seqs are
    written, and ``page`` gives their ids and numbers from ``records``
    (which never change), so a pull writes no JSON of a thousand ids.
    ``endpoint`` defaults to this request's method and route template.
    Call it last in the view, right before answering: it commits.
    """
    if not enabled():
        return None
    partner = caller.partner_id if isinstance(caller, Caller) else caller
    if endpoint is None:
        endpoint = endpoint_of_request() if has_request_context() else "(no request)"
    named = sorted(set(numbers))  # in key order: the b-tree inserts go in order
    db.session.commit()  # the read's own transaction ends first: the row below is its own, short one
    with _relaxed_commit() as conn:
        dialect = conn.dialect.name
        audit_id = int(conn.execute(_TAKE[dialect]).scalar_one())
        conn.execute(
            _INSERT_ENTRY,
            {
                "id": audit_id,
                "at": clock.now(),
                "partner": partner,
                "endpoint": endpoint,
                "numbers": orjson.dumps(named).decode(),
                "ids": orjson.dumps(list(ids)).decode(),
                "count": int(count),
            },
        )
        if named:
            conn.execute(_INSERT_NUMBERS[dialect], {"id": audit_id, "values": orjson.dumps(named).decode()})
        if items:
            seqs = orjson.dumps(sorted({i.seq for i in items})).decode()
            conn.execute(_INSERT_SEQS[dialect], {"id": audit_id, "values": seqs})
    return audit_id


@contextlib.contextmanager
def _relaxed_commit() -> Iterator[Connection]:
    """A transaction for one audit row, committed without waiting for the disk.

    A look-up is a read; with its audit row committed the usual way it
    would wait for a disk flush (SQLite ``synchronous=FULL``, PostgreSQL's
    WAL flush) and take three times as long. The row is still written and
    committed before the answer leaves, and it survives a crash of the hub;
    what it gives up is the last fraction of a second of rows if the
    machine or the database server itself goes down (SQLite WAL with
    ``synchronous=NORMAL``; PostgreSQL ``synchronous_commit = off``, at most
    three times ``wal_writer_delay``). The records, acks and events the hub
    accepts keep full durability: only this transaction is relaxed. On
    SQLite the row waits its turn behind pushes (hub.db.writer_turn) rather
    than sleeping in the busy handler.
    """
    with db.engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            # a safety level cannot change inside a transaction: set it around this one, then restore
            with writer_turn():
                conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
                conn.commit()  # SQLAlchemy's autobegin: nothing was written, the driver opened no transaction
                try:
                    with conn.begin():
                        yield conn
                finally:
                    conn.exec_driver_sql("PRAGMA synchronous=FULL")
                    conn.commit()
        else:
            with conn.begin():
                conn.exec_driver_sql("SET LOCAL synchronous_commit TO OFF")
                yield conn


def record_items(caller: Caller | str, items: Sequence[ReadItem], endpoint: str | None = None) -> int | None:
    """``record`` for an answer made of records (pulls, feed pages): one line in the view."""
    return record(caller, count=len(items), items=items, endpoint=endpoint)


def numbers_in(document: Any) -> list[str]:
    """Every string under a ``"number"`` member anywhere in a JSON document (log entries, reports).

    A walk rather than a list of paths, so a report or log entry that grows
    a member naming a number is audited without anyone remembering to say so.
    """
    found: list[str] = []
    stack = [document]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "number" and isinstance(value, str):
                    found.append(value)
                elif isinstance(value, (dict, list)):
                    stack.append(value)
        elif isinstance(node, list):
            stack.extend(reversed(node))
    return found


def page_statement(
    *,
    after: int = 0,
    limit: int = 100,
    partner: str | None = None,
    since: datetime | None = None,
    number: str | None = None,
) -> Any:
    """The SELECT of ``page`` (tests/test_audit.py checks its plans: index searches, never a scan).

    By number: range scans of ``audit_numbers``' primary key ``(number,
    audit_id)`` and of ``records(number, seq)`` then ``audit_seqs``' primary
    key ``(seq, audit_id)``, joined to ``audit`` by its key (the cost follows
    how often the number was read, never the trail's size); otherwise a scan of
    ``audit``'s primary key from ``after`` (``ix_audit_partner_id`` when a
    partner is given).
    """
    cols = (
        AuditEntry.id,
        AuditEntry.at,
        AuditEntry.partner,
        AuditEntry.endpoint,
        AuditEntry.numbers,
        AuditEntry.ids,
        AuditEntry.count,
    )
    if number is not None:
        named = select(AuditNumber.audit_id).where(AuditNumber.number == number, AuditNumber.audit_id > after)
        served = (
            select(AuditSeq.audit_id)
            .select_from(Record)
            .join(AuditSeq, AuditSeq.seq == Record.seq)
            .where(Record.number == number, AuditSeq.audit_id > after)
        )
        found = union(named, served).subquery()
        stmt = select(*cols).join(found, found.c.audit_id == AuditEntry.id).order_by(AuditEntry.id)
    else:
        stmt = select(*cols).where(AuditEntry.id > after).order_by(AuditEntry.id)
    if partner is not None:
        stmt = stmt.where(AuditEntry.partner == partner)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    return stmt.limit(min(limit, MAX_PAGE))


def page(
    *,
    after: int = 0,
    limit: int = 100,
    partner: str | None = None,
    since: datetime | None = None,
    number: str | None = None,
) -> tuple[list[AuditRow], int]:
    """Rows with id above ``after`` matching every filter given, oldest first; and the next cursor.

    The cursor is the last row's id, or ``after`` when the page is empty, so
    a reader polls from where it stopped.
    """
    stmt = page_statement(after=after, limit=limit, partner=partner, since=since, number=number)
    rows = db.session.execute(stmt).all()
    by_seq = _served([r[0] for r in rows])
    items = []
    for id_, at, who, endpoint, numbers, ids, count in rows:
        shown: list[str] = orjson.loads(numbers)
        listed: list[str] = orjson.loads(ids)
        mine = by_seq.get(id_)
        if mine is not None:
            listed += mine[0]
            shown = sorted(set(shown).union(mine[1]))
        items.append(AuditRow(id_, at, who, endpoint, shown, listed, count))
    return items, (items[-1].id if items else after)


def _served(audit_ids: list[int]) -> dict[int, tuple[list[str], list[str]]]:
    """The ids and numbers of the records each row served (by seq), from ``records``."""
    if not audit_ids:
        return {}
    found: dict[int, tuple[list[str], list[str]]] = {}
    rows = db.session.execute(
        select(AuditSeq.audit_id, Record.id, Record.number)
        .join(Record, Record.seq == AuditSeq.seq)
        .where(AuditSeq.audit_id.in_(audit_ids))
        .order_by(AuditSeq.audit_id, AuditSeq.seq)
    )
    for audit_id, record_id, number in rows:
        ids, numbers = found.setdefault(audit_id, ([], []))
        ids.append(record_id)
        numbers.append(number)
    return found


def retention_days() -> int:
    return int(current_app.config.get("AUDIT_RETENTION_DAYS", 365))


def prune(days: int | None = None, now: datetime | None = None) -> int:
    """Delete rows older than ``days`` (default ``AUDIT_RETENTION_DAYS``); how many this call deleted.

    Batches of ``PRUNE_BATCH``, each its own transaction. Safe to run
    twice, and on several workers at once (see the module's docstring).
    """
    days = retention_days() if days is None else days
    if days < 1:
        raise ValueError("the audit retention is at least 1 day")
    cutoff = (now or clock.now()) - timedelta(days=days)
    deleted = 0
    while True:
        conn = db.session.connection()
        if not _prune_lock(conn):
            db.session.rollback()
            break
        ids = list(
            conn.scalars(select(AuditEntry.id).where(AuditEntry.at < cutoff).order_by(AuditEntry.id).limit(PRUNE_BATCH))
        )
        if not ids:
            db.session.commit()
            break
        conn.execute(delete(AuditNumber).where(AuditNumber.audit_id.in_(ids)))
        conn.execute(delete(AuditSeq).where(AuditSeq.audit_id.in_(ids)))
        deleted += rows_changed(conn.execute(delete(AuditEntry).where(AuditEntry.id.in_(ids))))
        db.session.commit()
    return deleted


def _prune_lock(conn: Connection) -> bool:
    """PostgreSQL: this transaction holds the prune's advisory lock (False: another worker is pruning)."""
    if conn.dialect.name != "postgresql":
        return True  # SQLite: the first DELETE takes the database's write lock
    return bool(conn.scalar(select(func.pg_try_advisory_xact_lock(PRUNE_LOCK))))
