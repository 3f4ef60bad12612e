"""The console's pages read through indexes: their statements' plans, pinned on both databases.

Issue 15: no console page scans a table that grows with history (each
stays under 300 ms at 1,000,000 records: bench/console_pages.py). The
pages are fetched through the test client, signed in as staff, over a world
of a few thousand records with fresh statistics; every SELECT they send is
caught as sent and its plan read from the database itself (SQLite's EXPLAIN
QUERY PLAN, PostgreSQL's EXPLAIN), as tests/test_lookup_plan.py does for the
look-up. So the test follows what the pages really run, not a copy of it.
PostgreSQL's planner rightly reads a table of a few thousand rows whole
(hashing 3,000 records beats 101 index look-ups); at a million it would not
(bench/console_pages.py --plans shows its choices there), so its plans are
read with whole-table reads priced out (``enable_seqscan``, ``enable_hashjoin``
and ``enable_mergejoin`` off): a seq scan or a full sort still in a plan then
means no index can serve the query.

What is pinned:

- no statement of any page scans a history table (records, assignments,
  acks, log entries, anomalies, number events, Merkle nodes); the report and
  sign-in lists may walk their index in order and stop at the page's LIMIT;
- "open now" (pending, overdue, the overdue listing and its count) reads the
  partial indexes on open assignments, never ``ix_assignments_acted_at``
  (migration 0014: SQLite's planner once took it for ``acted_at IS NULL``
  and read every open row from the table, then sorted them all), and the
  overdue listing is an ordered index walk, not a sort of everything open;
- today's flow reads the received-at and acted-at indexes by range;
- a number's history is index searches on the number, then keys.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask

from hub.acks.models import Ack
from hub.db import db
from hub.ledger.models import LogEntry
from hub.records.anomalies import Anomaly
from hub.records.lifecycle import NumberEvent
from hub.records.models import Assignment, Record
from hub.reports import periods
from tests.console_support import add_staff, enrol, signed_daily_reports

NOW = datetime(2026, 12, 1, 5, 0, tzinfo=UTC)  # noon in Jakarta
N = 3000
NUMBER = "+6281234567890"
HISTORY = ("records", "assignments", "acks", "log_entries", "anomalies", "number_events", "merkle_nodes")
OPERATORS = {"telkomsel": "Telkomsel", "indosat": "Indosat Ooredoo Hutchison"}
OTT = "whatsapp"


def _leaf(idx: int, kind: str, object_id: str, at: datetime) -> dict[str, Any]:
    data = json.dumps({kind: {}, "signature": {"kid": "not-a-key"}})  # shown as signed by an unknown key
    return {"idx": idx, "kind": kind, "object_id": object_id, "data": data, "received_at": at}


def _reports() -> str:
    """Yesterday's daily report made by the service, and signed copies for the 59 days before it."""
    return signed_daily_reports(periods.jakarta_today(NOW), 60, lambda n: str(uuid.UUID(int=10**6 + n)))


@pytest.fixture
def world(app: Flask, register: Any, clock: Any) -> dict[str, str]:
    """N records over 60 days, two assignments each (about 10% never acted), an ack, an anomaly and a
    number event per record; every fourth-hundredth record is about NUMBER."""
    clock.freeze(NOW)
    register("kominfo", "ministry")
    for op, carrier in OPERATORS.items():
        register(op, "operator", [carrier])
    register(OTT, "ott")
    with app.app_context():
        report_id = _reports()
        records, assignments, acks, leaves, anomalies, events = [], [], [], [], [], []
        for i in range(N):
            rid = str(uuid.UUID(int=i + 1))
            at = NOW - timedelta(days=60) + timedelta(seconds=60 * 86400 * i / N)
            number = NUMBER if i % 400 == 0 else f"+62812{i:08d}"
            op = list(OPERATORS)[i % 2]
            records.append(
                {
                    "id": rid,
                    "seq": 3 * i + 1,
                    "log_index": 3 * i,
                    "sha256": "0" * 64,
                    "issuer": "kominfo",
                    "number": number,
                    "number_prefix": "00000",
                    "number_sha256": "0" * 64,
                    "action": "block",
                    "category": "scam",
                    "issued_at": at,
                    "in_force_until": at + timedelta(days=365),
                    "received_at": at,
                }
            )
            leaves.append(_leaf(3 * i, "record", rid, at))
            for pid in (op, OTT):
                acted = None if (i * 7 + len(pid)) % 10 == 0 else at + timedelta(hours=(i % 30) + 1)
                acted = None if acted is not None and acted >= NOW else acted
                assignments.append(
                    {
                        "record_id": rid,
                        "partner_id": pid,
                        "seq": 3 * i + 1,
                        "status": "acted" if acted else "delivered",
                        "assigned_at": at,
                        "delivered_at": at + timedelta(minutes=10),
                        "acted_at": acted,
                        "outcome": "blocked" if acted else None,
                    }
                )
            ack_id = str(uuid.UUID(int=10**7 + i))
            acks.append(
                {
                    "id": ack_id,
                    "record_id": rid,
                    "partner_id": op,
                    "outcome": "blocked",
                    "sha256": "0" * 64,
                    "log_index": 3 * i + 1,
                    "acted_at_claimed": at + timedelta(hours=1),
                    "received_at": at + timedelta(hours=1),
                }
            )
            leaves.append(_leaf(3 * i + 1, "ack", ack_id, at + timedelta(hours=1)))
            event_id = str(uuid.UUID(int=2 * 10**7 + i))
            events.append(
                {
                    "id": event_id,
                    "seq": 3 * i + 3,
                    "log_index": 3 * i + 2,
                    "sha256": "0" * 64,
                    "operator": op,
                    "number": number,
                    "event": "disconnected",
                    "effective_at": at,
                    "received_at": at,
                    "blocks_lifted": 0,
                }
            )
            leaves.append(_leaf(3 * i + 2, "number_event", event_id, at))
            anomalies.append(
                {
                    "kind": "rereported_after_block",
                    "number": number,
                    "partner_id": op,
                    "record_id": rid,
                    "created_at": at,
                }
            )
        for model, rows in (
            (LogEntry, leaves),
            (Record, records),
            (Assignment, assignments),
            (Ack, acks),
            (NumberEvent, events),
            (Anomaly, anomalies),
        ):
            db.session.execute(sa.insert(model), rows)
        db.session.commit()
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    return {"report": report_id}


PAGES = {
    "overview": "/console/",
    "league": "/console/league",
    "overdue": "/console/overdue",
    "overdue, one partner": "/console/overdue?partner=indosat",
    "overdue, a week late": "/console/overdue?late=168",
    "overdue CSV": "/console/overdue.csv",
    "number": f"/console/numbers?q={NUMBER}",
    "reports": "/console/reports",
    "partners and log": "/console/partners",
    "staff": "/console/staff",
}


@pytest.fixture
def caught(app: Flask, client: Any, world: dict[str, str]) -> dict[str, list[tuple[str, Any]]]:
    """Every SELECT each page sends (and the report's own page), as the driver received it."""
    add_staff(app, "analis@komdigi.go.id", "admin")
    enrol(app, client, "analis@komdigi.go.id")
    pages = {**PAGES, "a report": f"/console/reports/{world['report']}"}
    seen: list[tuple[str, Any]] = []

    def listen(conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: bool) -> None:
        if statement.lstrip().upper().startswith(("SELECT", "WITH")):
            seen.append((" ".join(statement.split()), params))  # on one line, for the checks' fragments

    out = {}
    with app.app_context():
        engine = db.engine
    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        for name, path in pages.items():
            seen.clear()
            resp = client.get(path)
            assert resp.status_code == 200, (path, resp.status_code)
            resp.get_data()  # a streamed CSV runs its statements as it is read
            out[name] = list(seen)
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
    return out


def _plans(app: Flask, statements: list[tuple[str, Any]]) -> Iterator[tuple[str, Any]]:
    """(SQL, plan): SQLite's plan as its detail lines, PostgreSQL's as its JSON tree."""
    with app.app_context():
        raw = db.session.connection().connection.driver_connection
        assert raw is not None
        for sql, params in statements:
            if db.engine.dialect.name == "sqlite":
                rows = raw.execute("EXPLAIN QUERY PLAN " + sql, params or ()).fetchall()
                yield sql, [str(r[-1]) for r in rows]
            else:
                with raw.cursor() as cur:
                    # A few thousand rows are cheaper read whole than through an index, as they are not at
                    # scale: priced as at scale, a seq scan left in a plan means no index serves the query.
                    for method in ("seqscan", "hashjoin", "mergejoin"):
                        cur.execute(f"SET LOCAL enable_{method} = off")
                    cur.execute("EXPLAIN (FORMAT JSON) " + sql, params or None)
                    yield sql, cur.fetchone()[0][0]["Plan"]
        db.session.rollback()


def _pg_nodes(plan: dict[str, Any]) -> Iterator[dict[str, Any]]:
    yield plan
    for child in plan.get("Plans", []):
        yield from _pg_nodes(child)


def _ordered_walk(sql: str) -> bool:
    return "ORDER BY" in sql and " LIMIT " in sql


def _check_sqlite(page: str, sql: str, lines: list[str]) -> None:
    where = f"{page}: {sql}\n" + "\n".join(lines)
    for line in lines:
        words = line.split()
        if words[0] == "SCAN" and words[1] in HISTORY:
            pytest.fail(f"scans a history table: {where}")
        if words[0] == "SCAN" and words[1] in ("reports", "staff_events"):
            assert _ordered_walk(sql) and ("USING INDEX" in line or line == f"SCAN {words[1]}"), where
    if "acted_at IS NULL" in sql:
        on_assignments = [ln for ln in lines if ln.split()[1] == "assignments"]
        assert on_assignments and all("INDEX ix_assignments_open_" in ln for ln in on_assignments), where
        assert "USE TEMP B-TREE FOR ORDER BY" not in lines, where  # an ordered walk, not a sort of all open
    if "records.number = ?" in sql:
        assert any("ix_records_number_seq (number=?)" in ln for ln in lines), where
    if "FROM acks" in sql:
        assert any(ln.startswith("SEARCH acks") and "(record_id=?" in ln for ln in lines), where
    if "FROM anomalies WHERE anomalies.number" in sql:
        assert lines == ["SEARCH anomalies USING INDEX ix_anomalies_number (number=?)"], where
    if "FROM number_events" in sql:
        assert any("ix_number_events_number_event_effective (number=?)" in ln for ln in lines), where
    if "assignments.acted_at >= ?" in sql:
        assert any("ix_assignments_acted_at (acted_at>? AND acted_at<?)" in ln for ln in lines), where
    if "records.received_at >= ?" in sql:
        assert any("ix_records_received_at (received_at>? AND received_at<?)" in ln for ln in lines), where


def _indexes_on(table: str, nodes: list[dict[str, Any]]) -> list[str | None]:
    """The index each read of ``table`` goes through (None: a heap read that names no index)."""
    return [
        n.get("Index Name")
        for n in nodes
        if n.get("Relation Name") == table or str(n.get("Index Name", "")).startswith((f"ix_{table}_", f"pk_{table}"))
        if n["Node Type"] != "Bitmap Heap Scan"
    ]


def _check_pg(page: str, sql: str, plan: dict[str, Any]) -> None:
    nodes = list(_pg_nodes(plan))
    where = f"{page}: {sql}\n{json.dumps(plan, indent=1)}"
    for n in nodes:
        if n["Node Type"] == "Seq Scan" or (n["Node Type"] == "Index Scan" and "Index Cond" not in n):
            assert n["Relation Name"] not in HISTORY, where  # a whole table, or a whole index walked
    if "acted_at IS NULL" in sql:
        used = _indexes_on("assignments", nodes)
        assert used and all(str(name).startswith("ix_assignments_open_") for name in used), where
        open_rows = max(n["Plan Rows"] for n in nodes if str(n.get("Index Name", "")).startswith("ix_assignments_"))
        if "ORDER BY" in sql and plan["Plan Rows"] < open_rows:
            # the listing where its LIMIT cuts (a page): walked in order, at most sorted within equal times;
            # a CSV chunk larger than all that is open in this small world reads it all, and may sort it
            assert not any(n["Node Type"] == "Sort" for n in nodes), where
    if "records.number = " in sql:
        assert "ix_records_number_seq" in _indexes_on("records", nodes), where
    if "FROM number_events" in sql:
        assert _indexes_on("number_events", nodes) == ["ix_number_events_number_event_effective"], where
    if "FROM anomalies WHERE anomalies.number" in sql:
        assert _indexes_on("anomalies", nodes) == ["ix_anomalies_number"], where
    if "assignments.acted_at >= " in sql:
        assert _indexes_on("assignments", nodes) == ["ix_assignments_acted_at"], where
    if "records.received_at >= " in sql:
        assert _indexes_on("records", nodes) == ["ix_records_received_at"], where


@pytest.mark.parametrize("page", [*PAGES, "a report"])
def test_the_page_reads_through_indexes(app: Flask, caught: dict[str, list[tuple[str, Any]]], page: str) -> None:
    statements = caught[page]
    assert statements, page
    with app.app_context():
        sqlite = db.engine.dialect.name == "sqlite"
    for sql, plan in _plans(app, statements):
        (_check_sqlite if sqlite else _check_pg)(page, sql, plan)


def test_every_heavy_statement_is_among_those_checked(caught: dict[str, list[tuple[str, Any]]]) -> None:
    """The pins above match statements the pages really send (a renamed column would otherwise pass silently)."""
    sent = " ".join(sql for page in caught.values() for sql, _ in page)
    for fragment in (
        "acted_at IS NULL",
        "FROM acks",
        "FROM number_events",
        "FROM anomalies WHERE anomalies.number",
        "assignments.acted_at >= ",
        "records.received_at >= ",
        "records.number = ",
        "FROM reports",
        "FROM staff_events",
    ):
        assert fragment in sent, fragment
    overdue = " ".join(sql for sql, _ in caught["overdue"])
    assert "acted_at IS NULL" in overdue and "ORDER BY assignments.assigned_at" in overdue
