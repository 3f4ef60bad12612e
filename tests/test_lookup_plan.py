"""The number look-up's plan: an index search on the number, the caller's assignment by its key.

PROTOCOL 1.1 section 4: OTT providers look a number up at every sign-up, so
it is answered from an index and never scans what was ever assigned to the
caller (the look-up once asked ``record_id IN (SELECT ... all the caller's
assignments)``, and took seconds at a million records). The plans of both
statements of ``hub.records.views.number_view`` are read from the database
itself (SQLite's EXPLAIN QUERY PLAN, PostgreSQL's EXPLAIN) over a table of
a few thousand records assigned to the caller, with fresh statistics.
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert, text

from hub.auth.protect import Caller
from hub.db import db
from hub.ledger.models import LogEntry
from hub.records import views
from hub.records.models import Assignment, Record

NUMBER = "+6281234567890"
N = 3000


@pytest.fixture
def filled(app, register):
    register("ott-a", "ott")
    register("kominfo", "ministry")
    now = datetime(2026, 12, 1, tzinfo=UTC)
    records, assignments, leaves = [], [], []
    for i in range(N):
        rid = str(uuid.UUID(int=i + 1))
        number = NUMBER if i % 1000 == 0 else f"+62812{i:08d}"
        records.append(
            {
                "id": rid,
                "seq": i + 1,
                "log_index": i,
                "sha256": "0" * 64,
                "issuer": "kominfo",
                "number": number,
                "number_prefix": "00000",
                "number_sha256": "0" * 64,
                "action": "block",
                "category": "scam",
                "issued_at": now,
                "in_force_until": now + timedelta(days=365),
                "received_at": now,
            }
        )
        assignments.append({"record_id": rid, "partner_id": "ott-a", "seq": i + 1, "assigned_at": now})
        leaves.append({"idx": i, "kind": "record", "object_id": rid, "data": "{}", "received_at": now})
    with app.app_context():
        db.session.execute(insert(LogEntry), leaves)
        db.session.execute(insert(Record), records)
        db.session.execute(insert(Assignment), assignments)
        db.session.commit()
        db.session.execute(text("ANALYZE"))
        db.session.commit()
    return now


def _plans(app, caller: Caller, now: datetime) -> list[str | dict]:
    with app.app_context():
        conn = db.session.connection()
        out = []
        for stmt in views.number_statements(caller):
            compiled = stmt.compile(dialect=conn.dialect)
            params = compiled.construct_params({"number": NUMBER, "partner": caller.partner_id, "now": now})
            processors = compiled._bind_processors
            params = {k: processors[k](v) if k in processors else v for k, v in params.items()}
            if conn.dialect.name == "sqlite":
                positional = tuple(params[name] for name in compiled.positiontup)
                rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), positional).all()
                out.append("\n".join(str(r[-1]) for r in rows))
            else:
                (plan,) = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), params).scalar_one()
                out.append(plan["Plan"])
        db.session.rollback()
        return out


def _pg_nodes(plan: dict):
    yield plan
    for child in plan.get("Plans", []):
        yield from _pg_nodes(child)


@pytest.mark.parametrize("kind", ["ott", "ministry"])
def test_number_lookup_is_an_index_search_on_the_number(app, filled, kind):
    caller = Caller("ott-a" if kind == "ott" else "kominfo", kind, "c", frozenset({"records:read"}), "j", 0)
    for plan in _plans(app, caller, filled):
        if isinstance(plan, str):  # SQLite
            lines = plan.splitlines()
            on_records = [ln for ln in lines if " records" in ln]
            on_assignments = [ln for ln in lines if " assignments" in ln]
            assert on_records and all(
                "USING" in ln and "INDEX ix_records_number_seq (number=?" in ln for ln in on_records
            ), plan
            assert all("(record_id=? AND partner_id=?)" in ln for ln in on_assignments), plan
            assert not any(ln.startswith("SCAN") and "CONSTANT ROW" not in ln for ln in lines), plan
        else:  # PostgreSQL
            nodes = list(_pg_nodes(plan))
            text_plan = json.dumps(plan)
            assert not any(n["Node Type"] == "Seq Scan" for n in nodes), text_plan
            for n in nodes:
                if n.get("Relation Name") == "records" or n.get("Index Name", "").startswith("ix_records"):
                    assert n.get("Index Name") == "ix_records_number_seq", text_plan
                    assert "number" in n.get("Index Cond", ""), text_plan
                if n.get("Relation Name") == "assignments":
                    assert n.get("Index Name") == "pk_assignments", text_plan
                    assert "record_id" in n.get("Index Cond", "") and "partner_id" in n.get("Index Cond", ""), text_plan
            assert any(n.get("Index Name") == "ix_records_number_seq" for n in nodes), text_plan
