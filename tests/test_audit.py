"""The audit trail (PROTOCOL 1.1 section 9): every read of partner data leaves a row the ministry can query.

What a regulator depends on: each kind of read is recorded with who, what
and how many; a hash-range query never names a number; the ministry can ask
"who read this number" and "what did this partner read"; only the ministry
can ask; the cursor never skips a row written concurrently by several
processes; rows cannot be changed, and old ones go when retention says.
"""

from __future__ import annotations

import hashlib
import inspect
import subprocess
import sys
import threading
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from hub.audit import service
from hub.db import db
from tests.records_world import ISAT, TSEL, TSEL2
from tests.support import ROOT, bearer, new_uuid


def trail(world: Any, **params: Any) -> dict[str, Any]:
    resp = world.client.get("/v1/audit", query_string=params, headers=world.auth(world.kominfo))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return resp.get_json()


def every_row(world: Any, **params: Any) -> list[dict[str, Any]]:
    rows, after = [], 0
    while True:
        page = trail(world, after=after, limit=2, **params)
        rows += page["items"]
        if not page["items"]:
            assert page["next_after"] == after
            return rows
        after = page["next_after"]


def test_each_read_is_recorded_with_who_what_and_how_many(app, world, clock):
    a = world.block(world.telkomsel, TSEL)
    b = world.block(world.indosat, ISAT)
    a_id, b_id = a["record"]["id"], b["record"]["id"]
    c, wa = world.client, world.auth(world.whatsapp)

    assert c.get("/v1/records?after=0&limit=10", headers=wa).status_code == 200
    assert c.get(f"/v1/numbers/{TSEL}", headers=wa).status_code == 200
    prefix = hashlib.sha256(TSEL.encode()).hexdigest()[:5]
    assert c.get(f"/v1/numbers/hash-range/{prefix}", headers=wa).status_code == 200
    assert c.get(f"/v1/records/{a_id}", headers=wa).status_code == 200
    assert c.get("/v1/log/entries?start=0&end=2", headers=wa).status_code == 200

    rows = trail(world)["items"]
    assert [(r["partner"], r["endpoint"]) for r in rows] == [
        ("whatsapp", "GET /v1/records"),
        ("whatsapp", "GET /v1/numbers/{number}"),
        ("whatsapp", "GET /v1/numbers/hash-range/{prefix}"),
        ("whatsapp", "GET /v1/records/{record_id}"),
        ("whatsapp", "GET /v1/log/entries"),
    ]
    pull, look_up, hash_range, fetch, log_read = rows
    assert sorted(pull["ids"]) == sorted([a_id, b_id]) and sorted(pull["numbers"]) == sorted([TSEL, ISAT])
    assert pull["count"] == 2
    assert look_up["numbers"] == [TSEL] and look_up["ids"] == [a_id] and look_up["count"] == 1
    # k-anonymity: the prefix is what was asked, and no number is written down
    assert hash_range["numbers"] == [] and hash_range["ids"] == [prefix] and hash_range["count"] == 1
    assert fetch["numbers"] == [TSEL] and fetch["ids"] == [a_id] and fetch["count"] == 1
    assert log_read["ids"] == ["[0,2)"] and log_read["count"] == 2
    assert set(log_read["numbers"]) <= {TSEL, ISAT}
    assert all(r["at"].endswith("Z") for r in rows)
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)


def test_a_look_up_of_a_number_with_no_records_is_recorded_too(world):
    assert world.client.get(f"/v1/numbers/{TSEL2}", headers=world.auth(world.telegram)).status_code == 200
    (row,) = trail(world, number=TSEL2)["items"]
    assert row["partner"] == "telegram" and row["count"] == 0 and row["ids"] == []


def test_report_reads_and_csv_downloads_are_recorded(app, world):
    from hub.reports import service as reports
    from hub.reports.periods import parse_period

    world.block(world.telkomsel, TSEL)
    with app.app_context():
        row, _ = reports.ensure(parse_period("daily", "2020-01-01"))
        report_id = row.id
    auth = world.auth(world.kominfo)
    assert world.client.get(f"/v1/reports/{report_id}", headers=auth).status_code == 200
    assert world.client.get(f"/v1/reports/{report_id}.csv", headers=auth).status_code == 200
    rows = trail(world, partner="kominfo")["items"]
    assert [(r["endpoint"], r["ids"], r["count"]) for r in rows] == [
        ("GET /v1/reports/{report_id}", [report_id], 1),
        ("GET /v1/reports/{report_id}.csv", [report_id], 1),
    ]


def test_filters_by_number_partner_and_since(world, clock):
    world.block(world.telkomsel, TSEL)
    world.block(world.indosat, ISAT)
    c = world.client
    clock.freeze(clock.now())
    c.get(f"/v1/numbers/{TSEL}", headers=world.auth(world.whatsapp))
    clock.advance(timedelta(minutes=10))
    c.get(f"/v1/numbers/{ISAT}", headers=world.auth(world.whatsapp))
    c.get("/v1/records", headers=world.auth(world.telegram))  # both numbers, in one pull
    later = clock.now()

    by_number = trail(world, number=TSEL)["items"]
    assert [(r["partner"], r["endpoint"]) for r in by_number] == [
        ("whatsapp", "GET /v1/numbers/{number}"),
        ("telegram", "GET /v1/records"),
    ]
    assert [r["partner"] for r in trail(world, partner="telegram")["items"]] == ["telegram"]
    since = later.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert [r["endpoint"] for r in trail(world, since=since)["items"]] == [
        "GET /v1/numbers/{number}",
        "GET /v1/records",
    ]
    assert [r["partner"] for r in trail(world, number=ISAT, partner="whatsapp", since=since)["items"]] == ["whatsapp"]
    assert trail(world, number=TSEL, partner="whatsapp", since=since)["items"] == []


def test_the_cursor_pages_oldest_first_and_stops_where_it_stopped(world):
    for _ in range(5):
        world.client.get(f"/v1/numbers/{TSEL}", headers=world.auth(world.whatsapp))
    rows = every_row(world)
    assert len(rows) == 5 and [r["id"] for r in rows] == sorted({r["id"] for r in rows})
    last = rows[-1]["id"]
    assert trail(world, after=last) == {"items": [], "next_after": last}
    world.client.get(f"/v1/numbers/{TSEL}", headers=world.auth(world.telegram))
    (new,) = trail(world, after=last)["items"]
    assert new["partner"] == "telegram"
    assert every_row(world, number=TSEL)[-1] == new


@pytest.mark.parametrize(
    "query",
    [
        "after=-1",
        "after=9223372036854775808",
        "after=x",
        "limit=0",
        "limit=1001",
        "since=1-01-01T00:00:00Z",
        "since=2026-13-01T00:00:00Z",
        "since=2026-11-28T10:00:00%2B07:00",
        "since=%EF%BC%92026-11-28T10:00:00Z",
        "number=0812345",
        "number=%2B62812345678901234567890",
        "partner=Telkomsel",
        "partner=a",
        "partner=telkomsel%0A",
    ],
)
def test_bad_query_parameters_are_400_problems(world, query):
    resp = world.client.get(f"/v1/audit?{query}", headers=world.auth(world.kominfo))
    assert resp.status_code == 400, (query, resp.get_data(as_text=True))
    assert resp.mimetype == "application/problem+json"


def test_only_the_ministry_reads_the_trail(world, token):
    for who in (world.telkomsel, world.whatsapp):
        resp = world.client.get("/v1/audit", headers=world.auth(who))
        assert resp.status_code == 403
        assert resp.mimetype == "application/problem+json"
        # the scope cannot be asked for either: the kind's table does not hold it
        refused = world.client.post(
            "/oauth/token",
            data={"grant_type": "client_credentials", "scope": "audit:read"},
            headers={"Authorization": _basic(who)},
        )
        assert refused.status_code == 400 and refused.get_json()["error"] == "invalid_scope"
    assert world.client.get("/v1/audit").status_code == 401
    # a ministry token without the scope is refused too
    narrow = token(world.kominfo, "records:read")
    assert world.client.get("/v1/audit", headers=bearer(narrow)).status_code == 403


def _basic(creds: Any) -> str:
    from tests.support import basic_auth

    return basic_auth(creds)["Authorization"]


def test_a_refused_read_is_not_recorded_and_an_unseen_record_is_not_named(world):
    a = world.block(world.telkomsel, TSEL)
    c = world.client
    assert c.get(f"/v1/records/{new_uuid()}", headers=world.auth(world.indosat)).status_code == 404
    assert c.get(f"/v1/records/{a['record']['id']}", headers=world.auth(world.indosat)).status_code == 404
    assert c.get("/v1/numbers/0812", headers=world.auth(world.indosat)).status_code == 400
    assert trail(world)["items"] == []


def test_the_audit_endpoint_is_in_the_openapi_document_with_an_example(client):
    doc = client.get("/openapi.json").get_json()
    op = doc["paths"]["/v1/audit"]["get"]
    assert op["security"] == [{"oauth2": ["audit:read"]}]
    assert {p["name"] for p in op["parameters"]} == {"partner", "since", "number", "after", "limit"}
    example = op["responses"]["200"]["content"]["application/json"]["example"]
    assert set(example) == {"items", "next_after"}
    assert set(example["items"][0]) == {"id", "at", "partner", "endpoint", "numbers", "ids", "count"}
    assert "audit:read" in doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]["scopes"]


# --- append-only ----------------------------------------------------------------------


def test_the_service_has_no_update_path():
    names = {name for name, _ in inspect.getmembers(service, inspect.isfunction) if _.__module__ == service.__name__}
    assert not {n for n in names if any(w in n for w in ("update", "edit", "change", "set", "modify"))}
    source = inspect.getsource(service)
    assert "update(" not in source.replace("on_conflict_do_update(", "") and ".update" not in source


def test_the_database_refuses_to_change_an_audit_row(app, world):
    world.block(world.telkomsel, TSEL)
    world.client.get(f"/v1/numbers/{TSEL}", headers=world.auth(world.whatsapp))
    world.client.get("/v1/records", headers=world.auth(world.whatsapp))
    with app.app_context():
        for statement in (
            "UPDATE audit SET partner = 'someone-else'",
            "UPDATE audit_numbers SET number = '+6281299999999'",
            "UPDATE audit_seqs SET seq = seq + 1",
        ):
            with pytest.raises(sa.exc.DatabaseError, match="append-only"):
                db.session.execute(sa.text(statement))
            db.session.rollback()
    assert [r["partner"] for r in trail(world)["items"]] == ["whatsapp", "whatsapp"]


def test_audit_can_be_switched_off_only_by_setting(make_app, world):
    off = make_app(AUDIT_ENABLED=False)
    resp = off.test_client().get(f"/v1/numbers/{TSEL}", headers=world.auth(world.whatsapp))
    assert resp.status_code == 200
    assert trail(world)["items"] == []


# --- retention ------------------------------------------------------------------------


def write(app: Any, partner: str, number: str = TSEL) -> None:
    """An audited read as a route writes it (the clock moves past tokens' lifetimes here)."""
    with app.test_request_context(f"/v1/numbers/{number}"):
        service.record(partner, count=1, numbers=[number], endpoint="GET /v1/numbers/{number}")


def test_prune_deletes_what_is_older_than_the_retention_and_is_safe_twice(app, world, clock, cli):
    start = clock.now()
    clock.freeze(start - timedelta(days=31))
    write(app, "whatsapp")
    clock.freeze(start - timedelta(days=11))
    write(app, "telegram")
    clock.freeze(start)
    result = cli("audit", "prune", "--days", "30")
    assert result.exit_code == 0 and "deleted 1 audit rows" in result.output
    assert cli("audit", "prune", "--days", "30").output.startswith("deleted 0")
    assert [r["partner"] for r in trail(world, number=TSEL)["items"]] == ["telegram"]
    with app.app_context():
        left = db.session.execute(sa.text("SELECT count(*) FROM audit_numbers")).scalar_one()
    assert left == 1
    assert cli("audit", "prune").output.endswith("older than 365 days\n")  # AUDIT_RETENTION_DAYS's default


def test_prune_on_two_workers_at_once_deletes_each_row_once(app, make_app, world, clock):
    start = clock.now()
    clock.freeze(start - timedelta(days=400))
    for _ in range(30):
        write(app, "whatsapp")
    clock.freeze(start)
    write(app, "telegram")
    apps = [make_app(), make_app()]
    results: list[int] = []
    barrier = threading.Barrier(2)
    original = service.PRUNE_BATCH
    service.PRUNE_BATCH = 4  # several batches each, so the two interleave

    def run(a: Any) -> None:
        with a.app_context():
            barrier.wait()
            results.append(service.prune(30, now=start))

    try:
        threads = [threading.Thread(target=run, args=(a,)) for a in apps]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
    finally:
        service.PRUNE_BATCH = original
    assert sum(results) == 30
    assert [r["partner"] for r in every_row(world)] == ["telegram"]


# --- the cursor under concurrent writers ----------------------------------------------

_WRITER = """
import sys
from hub import create_app
from hub.audit import service
app = create_app({"SCHEDULER_ENABLED": False, "RATELIMIT_ENABLED": False})
partner, count = sys.argv[1], int(sys.argv[2])
with app.test_request_context("/v1/records"):
    for i in range(count):
        service.record(partner, count=1, numbers=["+6281234567890"], ids=[str(i)], endpoint="GET /v1/records")
"""


def test_readers_paging_while_processes_write_see_every_row_exactly_once(app, world, hub_env):
    """Two writer processes and a reader paging as they write: the reader's rows are exactly every row."""
    env = {**hub_env, "PYTHONPATH": str(ROOT)}
    per_writer = 60
    procs = [
        subprocess.Popen([sys.executable, "-c", _WRITER, name, str(per_writer)], cwd=ROOT, env=env)
        for name in ("writer-a", "writer-b")
    ]
    seen: list[int] = []
    after = 0
    try:
        while True:
            done = all(p.poll() is not None for p in procs)
            page = trail(world, after=after, limit=7)
            seen += [r["id"] for r in page["items"]]
            after = page["next_after"]
            if done and not page["items"]:
                break
    finally:
        for p in procs:
            p.wait(60)
    assert [p.returncode for p in procs] == [0, 0]
    assert len(seen) == 2 * per_writer
    assert seen == sorted(set(seen)) == list(range(seen[0], seen[0] + 2 * per_writer))
    with_number = every_row(world, number=TSEL)
    assert len(with_number) == 2 * per_writer


# --- plans: a query by number or partner searches indexes, never scans the trail ------


def _plan(app: Any, stmt: Any) -> str | list[dict[str, Any]]:
    import json as _json

    with app.app_context():
        conn = db.session.connection()
        compiled = stmt.compile(dialect=conn.dialect)
        params = compiled.construct_params()
        processors = compiled._bind_processors
        params = {k: processors[k](v) if k in processors else v for k, v in params.items()}
        if conn.dialect.name == "sqlite":
            positional = tuple(params[name] for name in compiled.positiontup)
            rows = conn.exec_driver_sql("EXPLAIN QUERY PLAN " + str(compiled), positional).all()
            db.session.rollback()
            return "\n".join(str(r[-1]) for r in rows)
        # the tables are small here: ask whether an index path exists, not whether the planner likes it
        conn.exec_driver_sql("SET LOCAL enable_seqscan = off")
        (plan,) = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + str(compiled), params).scalar_one()
        db.session.rollback()
        nodes, stack = [], [plan[0]["Plan"] if isinstance(plan, list) else plan["Plan"]]
        while stack:
            node = stack.pop()
            nodes.append(node)
            stack.extend(node.get("Plans", []))
        assert _json.dumps(nodes)
        return nodes


@pytest.mark.parametrize(
    "filters",
    [
        {"number": TSEL},
        {"number": TSEL, "partner": "whatsapp"},
        {"partner": "whatsapp"},
        {"number": TSEL, "after": 3, "since": None},
    ],
)
def test_a_query_by_number_or_partner_searches_indexes(app, world, filters):
    world.block(world.telkomsel, TSEL)
    for _ in range(3):
        world.client.get(f"/v1/numbers/{TSEL}", headers=world.auth(world.whatsapp))
        world.client.get("/v1/records", headers=world.auth(world.telegram))
    with app.app_context():
        db.session.execute(sa.text("ANALYZE"))
        db.session.commit()
    plan = _plan(app, service.page_statement(limit=100, **filters))
    tables = ("audit", "audit_numbers", "audit_seqs", "records")
    if isinstance(plan, str):
        for line in plan.splitlines():
            words = line.split()
            if words[:1] == ["SCAN"] and words[1] in tables:
                # a scan of a table is allowed only along an index that bounds it (audit's own key, from after)
                assert "USING" in line, plan
        if "number" in filters:
            assert "audit_numbers USING PRIMARY KEY (number=?" in plan or "pk_audit_numbers (number=?" in plan, plan
            assert "ix_records_number_seq (number=?" in plan, plan
        else:
            assert "ix_audit_partner_id (partner=?" in plan, plan
    else:
        assert not [n for n in plan if n["Node Type"] == "Seq Scan" and n.get("Relation Name") in tables], plan
