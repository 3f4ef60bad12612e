"""``?dry_run=true`` on the batch pushes (PROTOCOL 1.1 section 4): judged exactly as a real push, nothing kept."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import func, select

from hub.demo import demo_command
from keys.keyfiles import read_private_key
from keys.signing import sign_object
from tests.records_world import World
from tests.support import ack_body, bearer, record_body

TSEL = "+6281234567890"


def _state(app: Flask) -> dict[str, int]:
    """What a dry run must leave as it was: records, assignments, acks, anomalies, the log, acted assignments."""
    from hub.acks.models import Ack
    from hub.db import db
    from hub.ledger import log
    from hub.records.anomalies import Anomaly
    from hub.records.models import Assignment, Record

    with app.app_context():
        count = {
            m.__tablename__: db.session.scalar(select(func.count()).select_from(m))
            for m in (Record, Assignment, Ack, Anomaly)
        }
        count["acted"] = db.session.scalar(
            select(func.count()).select_from(Assignment).where(Assignment.status == "acted")
        )
        count["log"] = log.size()
        db.session.remove()
    return count


def _push(client: Any, token: str, path: str, member: str, items: list[Any], dry: bool) -> list[dict[str, Any]]:
    url = path + ("?dry_run=true" if dry else "")
    resp = client.post(url, json={member: items}, headers=bearer(token))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    return list(resp.get_json()["results"])


def _same_answer(dry: list[dict[str, Any]], real: list[dict[str, Any]]) -> None:
    """valid where the real push accepted; everything else (duplicates' receipts, problems) identical."""
    assert len(dry) == len(real)
    for d, r in zip(dry, real, strict=True):
        if r["status"] == "accepted":
            assert d == {"id": r["id"], "status": "valid"}
        else:
            assert d == r


def test_records_dry_run_judges_like_the_real_push_and_keeps_nothing(world: World, app: Flask):
    first = world.block(world.kominfo, TSEL)
    fresh = world.kominfo.sign("record", record_body("kominfo", TSEL))
    bad_signature = world.kominfo.sign("record", record_body("kominfo", TSEL))
    bad_signature["signature"]["value"] = fresh["signature"]["value"]
    conflict = world.kominfo.sign("record", {**first["record"], "reason": "other content, same id"})
    unknown_block = world.kominfo.sign(
        "record",
        record_body("kominfo", TSEL, action="unblock", supersedes="00000000-0000-4000-8000-000000000000"),
    )
    batch = [first, fresh, bad_signature, conflict, unknown_block]

    before = _state(app)
    dry = _push(world.client, world.tokens["kominfo"], "/v1/records", "records", batch, dry=True)
    assert _state(app) == before
    assert [r["status"] for r in dry] == ["duplicate", "valid", "rejected", "rejected", "rejected"]
    assert "receipt" not in dry[1] and "error" not in dry[1]

    real = _push(world.client, world.tokens["kominfo"], "/v1/records", "records", batch, dry=False)
    _same_answer(dry, real)
    after = _state(app)
    assert after["records"] == before["records"] + 1 and after["log"] == before["log"] + 1

    again = _push(world.client, world.tokens["kominfo"], "/v1/records", "records", [fresh], dry=True)
    assert again == [{"id": fresh["record"]["id"], "status": "duplicate", "receipt": real[1]["receipt"]}]
    assert _state(app) == after


def test_acks_dry_run_acts_on_nothing(world: World, app: Flask):
    block = world.block(world.kominfo, TSEL)
    rid = block["record"]["id"]
    ack = world.telkomsel.sign("ack", ack_body("telkomsel", rid))
    not_assigned = world.indosat.sign("ack", ack_body("indosat", rid))
    wrong_outcome = world.telkomsel.sign("ack", ack_body("telkomsel", rid, outcome="unblocked"))

    before = _state(app)
    dry = _push(world.client, world.tokens["telkomsel"], "/v1/acks", "acks", [ack, wrong_outcome], dry=True)
    assert [r["status"] for r in dry] == ["valid", "rejected"]
    assert dry[1]["error"]["type"] == "urn:tangkal:problem:invalid-transition"
    other = _push(world.client, world.tokens["indosat"], "/v1/acks", "acks", [not_assigned], dry=True)
    assert other[0]["error"]["type"] == "urn:tangkal:problem:not-assigned"
    assert _state(app) == before  # the assignment is still not acted: the real ack is still possible

    real = _push(world.client, world.tokens["telkomsel"], "/v1/acks", "acks", [ack, wrong_outcome], dry=False)
    _same_answer(dry, real)
    assert _state(app)["acted"] == before["acted"] + 1


@pytest.mark.parametrize("value", ["maybe", "", "2"])
def test_dry_run_must_be_a_boolean(world: World, value: str):
    env = world.kominfo.sign("record", record_body("kominfo", TSEL))
    resp = world.client.post(f"/v1/records?dry_run={value}", json={"records": [env]}, headers=world.auth(world.kominfo))
    assert resp.status_code == 400
    assert resp.get_json()["type"] == "urn:tangkal:problem:invalid-request"
    assert "dry_run" in resp.get_json()["detail"]


def test_dry_run_is_documented_on_every_batch_push(client: Any):
    doc = client.get("/openapi.json").get_json()
    for path in ("/v1/records", "/v1/acks"):
        params = {p["name"]: p for p in doc["paths"][path]["post"].get("parameters", [])}
        assert params["dry_run"]["in"] == "query" and params["dry_run"]["schema"]["type"] == "boolean", path
    statuses = doc["components"]["schemas"]["ItemResult"]["properties"]["status"]["enum"]
    assert "valid" in statuses


@pytest.mark.slow
def test_dry_run_of_the_demo_worlds_records_stores_nothing_and_answers_as_the_real_push(
    app: Flask, tmp_path: Path, token: Any
):
    """The demo world's own records again (duplicates), new ones and bad ones, by the demo ministry's key."""
    from hub.db import db
    from hub.ledger import log
    from tests.support import PartnerCreds

    app.cli.add_command(demo_command)
    out = tmp_path / "demo"
    made = app.test_cli_runner().invoke(args=["demo", "--days", "3", "--out", str(out)])
    assert made.exit_code == 0, made.output
    values = dict(line.split("=", 1) for line in (out / "kominfo.env").read_text().splitlines())
    key = read_private_key(values["TANGKAL_KEY"])
    kominfo = PartnerCreds(
        "kominfo", "ministry", values["TANGKAL_CLIENT_ID"], values["TANGKAL_CLIENT_SECRET"], values["TANGKAL_KID"], key
    )
    with app.app_context():
        entries = [json.loads(e) for e in log.entries(0, log.size())]
        db.session.remove()
    stored = [e for e in entries if "record" in e and e["record"]["issuer"] == "kominfo"][:20]
    assert len(stored) == 20
    new = [sign_object("record", record_body("kominfo", TSEL), key, kominfo.kid) for _ in range(5)]
    bad_number = sign_object("record", record_body("kominfo", "0812-3456-7890"), key, kominfo.kid)
    batch = stored + new + [bad_number]

    client = app.test_client()
    tok = token(kominfo)
    before = _state(app)
    dry = _push(client, tok, "/v1/records", "records", batch, dry=True)
    assert _state(app) == before
    assert [r["status"] for r in dry] == ["duplicate"] * 20 + ["valid"] * 5 + ["rejected"]
    real = _push(client, tok, "/v1/records", "records", batch, dry=False)
    _same_answer(dry, real)
    assert _state(app)["records"] == before["records"] + 5
