"""PROTOCOL.md section 8: reconciliation reports with known answers.

The activity is written straight into the tables with chosen timestamps (the
hub stamps its own clock on everything it accepts, so a month of history
cannot be made through the API in a test); every figure of the daily and the
monthly report is then checked against numbers worked out by hand below.
"""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import insert

from keys.verify import verify_signed, verify_tree_head
from tests.support import bearer, record_body


def T(s: str) -> datetime:
    return datetime.fromisoformat(s.replace("Z", "+00:00")).astimezone(UTC)


# Jakarta day 2026-10-10 is [2026-10-09T17:00Z, 2026-10-10T17:00Z); SLA 24 h.
R1, R2, R3, R4 = (str(uuid.UUID(int=i, version=4)) for i in (1, 2, 3, 4))
RECORDS = [  # id, issuer, number, received
    (R3, "kominfo", "+6281200000003", "2026-10-08T10:00:00Z"),
    (R1, "kominfo", "+6281200000001", "2026-10-09T18:00:00Z"),
    (R2, "kominfo", "+6281200000002", "2026-10-10T12:00:00Z"),
    (R4, "telkomsel", "+6281200000004", "2026-10-10T13:00:00Z"),
]
ASSIGNMENTS = [  # record, partner, delivered, acted, outcome
    (R1, "telkomsel", "2026-10-09T19:00:00Z", "2026-10-09T20:00:00Z", "blocked"),  # 2 h
    (R1, "whatsapp", "2026-10-10T10:00:00Z", "2026-10-10T20:00:00Z", "blocked"),  # 26 h, acted after the day
    (R2, "telkomsel", None, "2026-10-10T16:00:00Z", "rejected"),  # 4 h
    (R2, "whatsapp", None, None, None),
    (R3, "telkomsel", None, None, None),  # overdue at the day's end
    (R3, "whatsapp", None, "2026-10-09T20:00:00Z", "not_applicable"),  # 34 h, acted in the day
    (R4, "telkomsel", None, "2026-10-10T15:00:00Z", "blocked"),  # 2 h
    (R4, "whatsapp", None, None, None),
]


@pytest.fixture
def history(app, register):
    kom = register("kominfo", "ministry")
    tsel = register("telkomsel", "operator", ["Telkomsel"])
    wa = register("whatsapp", "ott")
    from hub.acks.models import Attestation
    from hub.db import db
    from hub.ledger import log
    from hub.records.anomalies import Anomaly
    from hub.records.models import Assignment, Record

    with app.app_context():
        received = {rid: T(at) for rid, _, _, at in RECORDS}
        for rid, issuer, number, at in RECORDS:
            start = log.reserve(db.session, 1)
            log.append(db.session, start, [log.Entry("record", rid, json.dumps({"id": rid}).encode())], T(at))
            db.session.execute(
                insert(Record),
                [
                    {
                        "id": rid,
                        "seq": start + 1,
                        "log_index": start,
                        "sha256": "0" * 64,
                        "issuer": issuer,
                        "number": number,
                        "number_prefix": "00000",
                        "number_sha256": "0" * 64,
                        "action": "block",
                        "category": "scam",
                        "issued_at": T(at),
                        "in_force_until": T("2027-10-01T00:00:00Z"),
                        "supersedes": None,
                        "lifted_by": None,
                        "received_at": T(at),
                    }
                ],
            )
            db.session.commit()
        for rid, pid, delivered, acted, outcome in ASSIGNMENTS:
            db.session.execute(
                insert(Assignment),
                [
                    {
                        "record_id": rid,
                        "partner_id": pid,
                        "seq": 0,
                        "assigned_at": received[rid],
                        "status": "acted" if acted else ("delivered" if delivered else "pending"),
                        "delivered_at": T(delivered) if delivered else None,
                        "acted_at": T(acted) if acted else None,
                        "outcome": outcome,
                        "ack_id": None,
                    }
                ],
            )
        db.session.add(
            Anomaly(
                kind="rereported_after_block",
                number="+6281200000001",
                partner_id="telkomsel",
                record_id=R4,
                related_record_id=R1,
                created_at=T("2026-10-10T14:00:00Z"),
            )
        )
        for att_id, pid, as_of, match, count, expected in (
            (str(uuid.uuid4()), "telkomsel", "2026-10-10T15:00:00Z", True, 2, 2),
            (str(uuid.uuid4()), "whatsapp", "2026-10-10T16:00:00Z", False, 5, 1),
        ):
            db.session.add(
                Attestation(
                    id=att_id,
                    partner_id=pid,
                    as_of=T(as_of),
                    blocked_count=count,
                    blocked_set_sha256="a" * 64,
                    expected_count=expected,
                    expected_sha256="b" * 64,
                    match=match,
                    sha256=att_id.replace("-", "") * 2,
                    envelope="{}",
                    received_at=T(as_of),
                )
            )
        db.session.commit()
    return {"kominfo": kom, "telkomsel": tsel, "whatsapp": wa}


def _rows(report):
    return {r["partner"]: r for r in report["partners"]}


def _run(app, kind, period):
    res = app.test_cli_runner().invoke(args=["report", "run", "--kind", kind, "--period", period, "--json"])
    assert res.exit_code == 0, res.output
    return json.loads(res.output)


def test_daily_report_numbers(app, client, history):
    env = _run(app, "daily", "2026-10-10")
    jwks = client.get("/.well-known/jwks.json").get_json()
    report = verify_signed(env, "report", jwks)
    assert report["kind"] == "daily" and report["sla_hours"] == 24
    assert report["period"] == {"start": "2026-10-09T17:00:00Z", "end": "2026-10-10T17:00:00Z"}
    rows = _rows(report)
    assert rows["telkomsel"] == {
        "partner": "telkomsel",
        "kind": "operator",
        "issued": 1,
        "assigned": 3,
        "delivered": 1,
        "acted": {"blocked": 2, "unblocked": 0, "rejected": 1, "not_applicable": 0},
        "pending": 1,
        "overdue": 1,
        "within_sla_share": 1.0,
        "median_hours_to_act": 2.0,
        "p95_hours_to_act": 4.0,
        "attestation": {"as_of": "2026-10-10T15:00:00Z", "match": True},
    }
    assert rows["whatsapp"] == {
        "partner": "whatsapp",
        "kind": "ott",
        "issued": 0,
        "assigned": 3,
        "delivered": 1,
        "acted": {"blocked": 0, "unblocked": 0, "rejected": 0, "not_applicable": 1},
        "pending": 3,
        "overdue": 0,
        "within_sla_share": 0.0,
        "median_hours_to_act": 34.0,
        "p95_hours_to_act": 34.0,
        "attestation": {"as_of": "2026-10-10T16:00:00Z", "match": False},
    }
    assert rows["kominfo"] == {
        "partner": "kominfo",
        "kind": "ministry",
        "issued": 2,
        "assigned": 0,
        "delivered": 0,
        "acted": {"blocked": 0, "unblocked": 0, "rejected": 0, "not_applicable": 0},
        "pending": 0,
        "overdue": 0,
        "within_sla_share": None,
        "median_hours_to_act": None,
        "p95_hours_to_act": None,
        "attestation": None,
    }
    assert report["totals"] == {
        "partners": 3,
        "issued": 3,
        "assigned": 6,
        "delivered": 2,
        "acted": {"blocked": 2, "unblocked": 0, "rejected": 1, "not_applicable": 1},
        "pending": 4,
        "overdue": 1,
        "anomalies": 2,
    }
    assert report["overdue"]["count"] == 1
    (item,) = report["overdue"]["items"]
    assert item["record_id"] == R3 and item["partner"] == "telkomsel" and item["number"] == "+6281200000003"
    assert item["due_at"] == "2026-10-09T10:00:00Z"
    kinds = [(a["kind"], a["partner"]) for a in report["anomalies"]]
    assert kinds == [("rereported_after_block", "telkomsel"), ("attestation_mismatch", "whatsapp")]
    assert report["anomalies"][1]["expected_count"] == 1 and report["anomalies"][1]["blocked_count"] == 5
    head = verify_tree_head(report["log_head"], jwks)
    assert head["size"] == 4  # R3, R1, R2, R4 were logged before the day's end


def test_monthly_report_numbers(app, client, history):
    report = _run(app, "monthly", "2026-10")["report"]
    assert report["period"] == {"start": "2026-09-30T17:00:00Z", "end": "2026-10-31T17:00:00Z"}
    rows = _rows(report)
    t, w = rows["telkomsel"], rows["whatsapp"]
    assert (t["issued"], t["assigned"], t["delivered"], t["pending"], t["overdue"]) == (1, 4, 1, 1, 1)
    assert t["acted"] == {"blocked": 2, "unblocked": 0, "rejected": 1, "not_applicable": 0}
    assert (t["within_sla_share"], t["median_hours_to_act"], t["p95_hours_to_act"]) == (0.75, 2.0, 4.0)
    assert (w["issued"], w["assigned"], w["delivered"], w["pending"], w["overdue"]) == (0, 4, 1, 2, 2)
    assert w["acted"] == {"blocked": 1, "unblocked": 0, "rejected": 0, "not_applicable": 1}
    assert (w["within_sla_share"], w["median_hours_to_act"], w["p95_hours_to_act"]) == (0.0, 26.0, 34.0)
    assert rows["kominfo"]["issued"] == 3
    assert report["overdue"]["count"] == 3
    assert {(i["record_id"], i["partner"]) for i in report["overdue"]["items"]} == {
        (R3, "telkomsel"),
        (R2, "whatsapp"),
        (R4, "whatsapp"),
    }
    assert report["log_head"]["tree_head"]["size"] == 4


def test_report_run_is_idempotent_and_refuses_unfinished_periods(app, history):
    first = _run(app, "daily", "2026-10-10")
    again = _run(app, "daily", "2026-10-10")
    assert first == again
    runner = app.test_cli_runner()
    res = runner.invoke(args=["report", "run", "--kind", "daily", "--period", "2026-10-10"])
    assert "already existed" in res.output
    for args in (
        ["--kind", "daily", "--period", "2099-01-01"],
        ["--kind", "daily", "--period", "2026-10"],
        ["--kind", "monthly", "--period", "2026-13"],
        ["--kind", "weekly", "--period", "2026-10"],
    ):
        bad = runner.invoke(args=["report", "run", *args])
        assert bad.exit_code != 0 and "Traceback" not in bad.output


def test_report_endpoints(app, client, history, token):
    _run(app, "daily", "2026-10-09")
    daily = _run(app, "daily", "2026-10-10")["report"]
    _run(app, "monthly", "2026-10")
    kom = bearer(token(history["kominfo"]))
    listed = client.get("/v1/reports?kind=daily", headers=kom).get_json()
    assert [i["period"]["start"] for i in listed["items"]] == ["2026-10-08T17:00:00Z", "2026-10-09T17:00:00Z"]
    assert set(listed["items"][0]) == {"id", "kind", "period", "generated_at"} and listed["next"] is None
    since = client.get("/v1/reports?since=2026-10-09T17:00:00Z", headers=kom).get_json()["items"]
    assert [i["kind"] for i in since] == ["daily"]
    page1 = client.get("/v1/reports?limit=2", headers=kom).get_json()
    assert len(page1["items"]) == 2 and page1["next"]
    page2 = client.get(page1["next"], headers=kom).get_json()
    assert len(page2["items"]) == 1 and page2["next"] is None
    assert {i["id"] for i in page1["items"] + page2["items"]} == {
        i["id"] for i in client.get("/v1/reports", headers=kom).get_json()["items"]
    }
    got = client.get(f"/v1/reports/{daily['id']}", headers=kom).get_json()
    assert got["report"] == daily
    resp = client.get(f"/v1/reports/{daily['id']}.csv", headers=kom)
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    table = list(csv.DictReader(io.StringIO(resp.get_data(as_text=True))))
    assert [r["partner"] for r in table] == ["kominfo", "telkomsel", "whatsapp"]
    t = next(r for r in table if r["partner"] == "telkomsel")
    assert (t["acted_blocked"], t["acted_rejected"], t["overdue"], t["within_sla_share"], t["attestation_match"]) == (
        "2",
        "1",
        "1",
        "1.0",
        "true",
    )
    assert "acted" not in table[0] and "attestation" not in table[0]
    assert client.get("/v1/reports/nope", headers=kom).status_code == 404
    assert client.get("/v1/reports?kind=weekly", headers=kom).status_code == 400
    assert client.get("/v1/reports?since=yesterday", headers=kom).status_code == 400
    op = bearer(token(history["telkomsel"]))
    for path in ("/v1/reports", f"/v1/reports/{daily['id']}", f"/v1/reports/{daily['id']}.csv"):
        assert client.get(path, headers=op).status_code == 403


def test_adhoc_reports(app, client, history, token):
    kom = bearer(token(history["kominfo"]))
    body = {"kind": "adhoc", "start": "2026-10-09T17:00:00Z", "end": "2026-10-10T17:00:00Z"}
    first = client.post("/v1/reports", json=body, headers=kom)
    assert first.status_code == 201
    report = first.get_json()["report"]
    assert report["kind"] == "adhoc" and _rows(report)["telkomsel"]["assigned"] == 3
    second = client.post("/v1/reports", json=body, headers=kom).get_json()["report"]
    assert second["id"] != report["id"]  # ad-hoc reports are not deduplicated
    # a period ending in the future uses the current log head
    future = client.post(
        "/v1/reports",
        json={"kind": "adhoc", "start": "2026-10-01T00:00:00Z", "end": "2099-01-01T00:00:00Z"},
        headers=kom,
    )
    assert future.status_code == 400  # over 400 days
    # (1.1) an ad-hoc period ends at most one day past the hub's clock
    soon_end = (datetime.now(UTC) + timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M:%SZ")
    soon = client.post(
        "/v1/reports",
        json={"kind": "adhoc", "start": "2026-10-01T00:00:00Z", "end": soon_end},
        headers=kom,
    )
    assert soon.get_json()["report"]["log_head"]["tree_head"]["size"] == 4
    for bad in (
        {**body, "kind": "daily"},
        {**body, "end": body["start"]},
        {**body, "start": "2026-10-09"},
        {**body, "x": 1},
    ):
        resp = client.post("/v1/reports", json=bad, headers=kom)
        assert resp.status_code == 400 and resp.get_json()["type"] == "urn:tangkal:problem:invalid-request"
    read_only = client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "reports:read"},
        headers=__import__("tests.support", fromlist=["basic_auth"]).basic_auth(history["kominfo"]),
    ).get_json()["access_token"]
    assert client.post("/v1/reports", json=body, headers=bearer(read_only)).status_code == 403


def test_live_report_reflects_api_activity(app, client, register, token):
    """A report over activity made through the API right now (no hand-made rows)."""
    kom = register("kominfo", "ministry")
    tsel = register("telkomsel", "operator", ["Telkomsel"])
    auth = bearer(token(kom))
    env = kom.sign("record", record_body("kominfo", "+6281234567890"))
    client.post("/v1/records", json={"records": [env]}, headers=auth)
    from tests.support import ack_body

    client.post(
        "/v1/acks",
        json={"acks": [tsel.sign("ack", ack_body("telkomsel", env["record"]["id"]))]},
        headers=bearer(token(tsel)),
    )
    report = client.post(
        "/v1/reports",
        json={
            "kind": "adhoc",
            "start": (datetime.now(UTC) - timedelta(days=30)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "end": (datetime.now(UTC) + timedelta(hours=12)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        },
        headers=auth,
    ).get_json()["report"]
    row = _rows(report)["telkomsel"]
    assert row["assigned"] == 1 and row["acted"]["blocked"] == 1 and row["within_sla_share"] == 1.0
    assert row["median_hours_to_act"] is not None and row["median_hours_to_act"] < 0.01
    assert report["log_head"]["tree_head"]["size"] == 2
