"""PROTOCOL.md sections 5 and 6: acks, the assignment lifecycle, attestations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from keys.jcs import canonicalize
from keys.merkle import leaf_hash
from keys.verify import verify_receipt
from tests.records_world import ISAT, TSEL, TSEL2, World
from tests.support import ack_body, attestation_body


def _ts(delta: timedelta = timedelta()) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def _slug(res: dict) -> str:
    assert res["status"] == "rejected", res
    return res["error"]["type"].removeprefix("urn:tangkal:problem:")


def _assignment(w: World, record_id: str, partner: str) -> dict:
    detail = w.client.get(f"/v1/records/{record_id}", headers=w.auth(w.kominfo)).get_json()
    return next(a for a in detail["assignments"] if a["partner"] == partner)


@pytest.mark.parametrize(
    "action, outcome, allowed",
    [
        ("block", "blocked", True),
        ("block", "rejected", True),
        ("block", "not_applicable", True),
        ("block", "unblocked", False),
        ("unblock", "unblocked", True),
        ("unblock", "rejected", True),
        ("unblock", "not_applicable", True),
        ("unblock", "blocked", False),
    ],
)
def test_every_outcome_against_every_action(world: World, action, outcome, allowed):
    block = world.block(world.kominfo, TSEL)
    target = (
        block
        if action == "block"
        else world.block(world.kominfo, TSEL, action="unblock", supersedes=block["record"]["id"])
    )
    rid = target["record"]["id"]
    reason = None if outcome in ("blocked", "unblocked") else "number belongs to a hospital switchboard"
    env = world.telkomsel.sign("ack", ack_body("telkomsel", rid, outcome, reason))
    (res,) = world.ack(world.telkomsel, env)
    if allowed:
        assert res["status"] == "accepted"
        jwks = world.client.get("/.well-known/jwks.json").get_json()
        receipt = verify_receipt(res["receipt"], jwks, env)
        assert receipt["kind"] == "ack" and receipt["object_id"] == env["ack"]["id"]
        a = _assignment(world, rid, "telkomsel")
        assert a["status"] == "acted" and a["acted_at"] == receipt["received_at"]
        assert a["ack"] == env
    else:
        assert _slug(res) == "invalid-transition"
        assert _assignment(world, rid, "telkomsel")["status"] == "pending"


def test_acks_share_the_seq_counter_and_the_log(world: World):
    block = world.block(world.kominfo, TSEL)
    env = world.telkomsel.sign("ack", ack_body("telkomsel", block["record"]["id"]))
    (res,) = world.ack(world.telkomsel, env)
    assert res["receipt"]["receipt"]["seq"] == 2 and res["receipt"]["receipt"]["log_index"] == 1
    for who in (world.telkomsel, world.kominfo):  # the ack's sender and the record's issuer
        entries = world.client.get("/v1/log/entries?start=0", headers=world.auth(who)).get_json()["entries"]
        assert entries == [block, env]
    # (1.1) to anyone else another partner's ack is its leaf hash
    entries = world.client.get("/v1/log/entries?start=0", headers=world.auth(world.whatsapp)).get_json()["entries"]
    assert entries == [block, {"leaf_hash": leaf_hash(canonicalize(env)).hex()}]
    # pulls serve records only
    assert [i["seq"] for i in world.pull_all(world.telkomsel)] == [1]


def test_refused_acks(world: World):
    block = world.block(world.kominfo, TSEL)
    rid = block["record"]["id"]
    isat_block = world.block(world.kominfo, ISAT)

    def one(who, body, kid=None):
        return world.ack(who, who.sign("ack", body, kid=kid))[0]

    # not the caller's own ack
    assert _slug(one(world.telkomsel, ack_body("indosat", rid))) == "not-assigned"
    # not assigned to the caller (indosat is not telkomsel's number's operator)
    assert _slug(one(world.indosat, ack_body("indosat", rid))) == "not-assigned"
    # unknown record
    assert _slug(one(world.telkomsel, ack_body("telkomsel", "8d3f6c2e-6b1f-4f43-9a7e-0c8e2f1d9b10"))) == "not-assigned"
    # the ministry has no assignments (and no acks:write scope at all)
    resp = world.client.post(
        "/v1/acks",
        json={"acks": [world.kominfo.sign("ack", ack_body("kominfo", rid))]},
        headers=world.auth(world.kominfo),
    )
    assert resp.status_code == 403
    # a reason is required for rejected and not_applicable
    assert _slug(one(world.telkomsel, ack_body("telkomsel", rid, "rejected", None))) == "invalid-record"
    assert _slug(one(world.telkomsel, ack_body("telkomsel", rid, "not_applicable", None))) == "invalid-record"
    # malformed
    assert _slug(one(world.telkomsel, ack_body("telkomsel", rid, "blocked", None, extra=1))) == "invalid-record"
    assert (
        _slug(one(world.telkomsel, {k: v for k, v in ack_body("telkomsel", rid).items() if k != "reason"}))
        == "invalid-record"
    )
    assert (
        _slug(one(world.telkomsel, ack_body("telkomsel", rid, acted_at="2026-11-28T12:00:00+07:00")))
        == "invalid-record"
    )
    # keys and signatures
    assert _slug(one(world.telkomsel, ack_body("telkomsel", rid), kid="nope")) == "unknown-key"
    bad = world.telkomsel.sign("ack", ack_body("telkomsel", rid))
    bad["ack"]["outcome"] = "rejected"
    bad["ack"]["reason"] = "tampered"
    assert _slug(world.ack(world.telkomsel, bad)[0]) == "invalid-signature"
    # the assignment is still open after all of that
    assert _assignment(world, rid, "telkomsel")["status"] == "pending"
    del isat_block


def test_one_final_outcome_per_assignment(world: World):
    block = world.block(world.kominfo, TSEL)
    rid = block["record"]["id"]
    first = world.telkomsel.sign("ack", ack_body("telkomsel", rid))
    (res,) = world.ack(world.telkomsel, first)
    assert res["status"] == "accepted"
    (dup,) = world.ack(world.telkomsel, first)
    assert dup["status"] == "duplicate" and dup["receipt"] == res["receipt"]
    second = world.telkomsel.sign("ack", ack_body("telkomsel", rid, "rejected", "changed our mind"))
    assert _slug(world.ack(world.telkomsel, second)[0]) == "conflict"
    same_id_other = world.telkomsel.sign("ack", {**first["ack"], "acted_at": _ts()})
    assert _slug(world.ack(world.telkomsel, same_id_other)[0]) == "conflict"
    # invalid-transition is checked before conflict
    wrong = world.telkomsel.sign("ack", ack_body("telkomsel", rid, "unblocked"))
    assert _slug(world.ack(world.telkomsel, wrong)[0]) == "invalid-transition"
    # two acks for one assignment in one batch: the second is the conflict
    b2 = world.block(world.kominfo, TSEL2)
    a1 = world.telkomsel.sign("ack", ack_body("telkomsel", b2["record"]["id"]))
    a2 = world.telkomsel.sign("ack", ack_body("telkomsel", b2["record"]["id"], "not_applicable", "not ours"))
    r1, r2 = world.ack(world.telkomsel, a1, a2)
    assert r1["status"] == "accepted" and _slug(r2) == "conflict"


def test_assignment_states_and_times(world: World):
    block = world.block(world.kominfo, TSEL)
    rid = block["record"]["id"]
    a = _assignment(world, rid, "telkomsel")
    assert a["status"] == "pending" and a["delivered_at"] is None and a["acted_at"] is None
    world.pull_all(world.telkomsel)
    a = _assignment(world, rid, "telkomsel")
    assert a["status"] == "delivered" and a["delivered_at"] and a["acted_at"] is None
    world.ack(world.telkomsel, world.telkomsel.sign("ack", ack_body("telkomsel", rid, acted_at="2020-01-01T00:00:00Z")))
    a = _assignment(world, rid, "telkomsel")
    assert a["status"] == "acted" and a["delivered_at"] <= a["acted_at"]
    assert a["acted_at"] != "2020-01-01T00:00:00Z"  # the hub's acceptance time, not the partner's word
    # acting without pulling first is allowed: delivered_at stays null
    world.ack(world.whatsapp, world.whatsapp.sign("ack", ack_body("whatsapp", rid)))
    wa = _assignment(world, rid, "whatsapp")
    assert wa["status"] == "acted" and wa["delivered_at"] is None


def _state(w: World, number: str) -> dict:
    return w.client.get(f"/v1/numbers/{number}", headers=w.auth(w.whatsapp)).get_json()


def test_whole_lifecycle_of_one_number_through_http(world: World, app, clock):
    """report, route, deliver, block, re-report, appeal, unblock, expire."""
    # report: the ministry pushes a block that expires in 3 seconds
    block = world.block(world.kominfo, TSEL, expires_at=_ts(timedelta(seconds=3)))
    rid = block["record"]["id"]
    # route
    assert {
        a["partner"]
        for a in world.client.get(f"/v1/records/{rid}", headers=world.auth(world.kominfo)).get_json()["assignments"]
    } == {"telkomsel", "whatsapp", "telegram"}
    # deliver
    assert [i["record"]["id"] for i in world.pull_all(world.telkomsel)] == [rid]
    # block
    (ack,) = world.ack(world.telkomsel, world.telkomsel.sign("ack", ack_body("telkomsel", rid)))
    assert ack["status"] == "accepted" and _state(world, TSEL)["blocked"] is True
    h = __import__("hashlib").sha256(TSEL.encode()).hexdigest()
    assert (
        h[5:]
        in world.client.get(f"/v1/numbers/hash-range/{h[:5]}", headers=world.auth(world.whatsapp)).get_json()[
            "suffixes"
        ]
    )
    # re-report: a new block while telkomsel's acked block is in force is an anomaly
    again = world.block(world.whatsapp, TSEL)
    from hub.db import db
    from hub.records.anomalies import Anomaly

    with app.app_context():
        rows = db.session.query(Anomaly).all()
        assert [(r.kind, r.number, r.partner_id, r.record_id, r.related_record_id) for r in rows] == [
            ("rereported_after_block", TSEL, "telkomsel", again["record"]["id"], rid)
        ]
    # appeal upheld: the issuer's unblock lifts the first block, assigned to the same partners
    unblock = world.block(world.kominfo, TSEL, action="unblock", supersedes=rid)
    (uack,) = world.ack(
        world.telkomsel, world.telkomsel.sign("ack", ack_body("telkomsel", unblock["record"]["id"], "unblocked"))
    )
    assert uack["status"] == "accepted"
    # the whatsapp re-report is still a block in force
    assert _state(world, TSEL)["blocked"] is True
    world.block(world.whatsapp, TSEL, action="unblock", supersedes=again["record"]["id"])
    assert _state(world, TSEL)["blocked"] is False
    assert (
        world.client.get(f"/v1/numbers/hash-range/{h[:5]}", headers=world.auth(world.whatsapp))
        .get_json()["suffixes"]
        .count(h[5:])
        == 0
    )
    # expire: a fresh short block lapses by itself
    world.block(world.kominfo, TSEL, expires_at=_ts(timedelta(seconds=2)))
    assert _state(world, TSEL)["blocked"] is True
    clock.advance(timedelta(seconds=2.5))
    assert _state(world, TSEL)["blocked"] is False
    assert len(_state(world, TSEL)["records"]) == 5


def test_no_rereport_anomaly_without_a_blocked_ack(world: World, app):
    block = world.block(world.kominfo, TSEL)
    world.ack(
        world.telkomsel,
        world.telkomsel.sign("ack", ack_body("telkomsel", block["record"]["id"], "rejected", "not a fraud number")),
    )
    world.block(world.kominfo, TSEL)
    # an OTT's blocked ack is not the operator's
    b2 = world.block(world.kominfo, ISAT)
    world.ack(world.whatsapp, world.whatsapp.sign("ack", ack_body("whatsapp", b2["record"]["id"])))
    world.block(world.kominfo, ISAT)
    from hub.db import db
    from hub.records.anomalies import Anomaly

    with app.app_context():
        assert db.session.query(Anomaly).count() == 0


def _attest(w: World, who, body):
    return w.client.post("/v1/attestations", json=who.sign("attestation", body), headers=w.auth(who))


def test_attestation_matches_and_mismatches(world: World):
    b1 = world.block(world.kominfo, TSEL)
    b2 = world.block(world.kominfo, TSEL2)
    b3 = world.block(world.kominfo, ISAT)  # not telkomsel's
    for b in (b1, b2):
        world.ack(world.telkomsel, world.telkomsel.sign("ack", ack_body("telkomsel", b["record"]["id"])))
    good = _attest(world, world.telkomsel, attestation_body("telkomsel", [TSEL, TSEL2]))
    assert good.status_code == 201 and good.get_json()["match"] is True and good.get_json()["expected_count"] == 2
    bad = _attest(world, world.telkomsel, attestation_body("telkomsel", [TSEL]))
    assert bad.status_code == 201 and bad.get_json() == {
        "id": bad.get_json()["id"],
        "match": False,
        "expected_count": 2,
    }
    # lifting one block takes it out of the expected set
    world.block(world.kominfo, TSEL2, action="unblock", supersedes=b2["record"]["id"])
    assert _attest(world, world.telkomsel, attestation_body("telkomsel", [TSEL])).get_json()["match"] is True
    # an as_of before the unblock still expects both
    del b3


def test_attestation_as_of_history_and_expiry(world: World, clock):
    before = _ts(timedelta(seconds=-1))
    b = world.block(world.kominfo, TSEL, expires_at=_ts(timedelta(seconds=3)))
    world.ack(world.telkomsel, world.telkomsel.sign("ack", ack_body("telkomsel", b["record"]["id"])))
    assert _attest(world, world.telkomsel, attestation_body("telkomsel", [], as_of=before)).get_json()["match"] is True
    assert _attest(world, world.telkomsel, attestation_body("telkomsel", [TSEL])).get_json()["match"] is True
    clock.advance(timedelta(seconds=3.2))
    later = _ts(timedelta(seconds=3.2))
    assert _attest(world, world.telkomsel, attestation_body("telkomsel", [], as_of=later)).get_json()["match"] is True


def test_attestation_same_id_again_and_refusals(world: World):
    body = attestation_body("telkomsel", [])
    first = _attest(world, world.telkomsel, body)
    assert first.status_code == 201
    again = _attest(world, world.telkomsel, body)
    assert again.status_code == 200 and again.get_json() == first.get_json()
    other = _attest(world, world.telkomsel, {**body, "blocked_count": 3})
    assert other.status_code == 409 and other.get_json()["type"] == "urn:tangkal:problem:conflict"

    def problem(resp, status, slug):
        assert resp.status_code == status, resp.get_data(as_text=True)
        assert resp.get_json()["type"] == f"urn:tangkal:problem:{slug}"

    problem(_attest(world, world.telkomsel, attestation_body("indosat", [])), 403, "issuer-mismatch")
    problem(
        _attest(world, world.telkomsel, attestation_body("telkomsel", [], as_of=_ts(timedelta(minutes=10)))),
        400,
        "invalid-record",
    )
    problem(_attest(world, world.telkomsel, attestation_body("telkomsel", [], extra=1)), 400, "invalid-record")
    problem(
        _attest(world, world.telkomsel, attestation_body("telkomsel", [], blocked_set_sha256="ABC")),
        400,
        "invalid-record",
    )
    forged = world.telkomsel.sign("attestation", attestation_body("telkomsel", []))
    forged["attestation"]["blocked_count"] = 5
    problem(
        world.client.post("/v1/attestations", json=forged, headers=world.auth(world.telkomsel)),
        400,
        "invalid-signature",
    )
    problem(
        world.client.post(
            "/v1/attestations",
            json=world.telkomsel.sign("attestation", attestation_body("telkomsel", []), kid="x"),
            headers=world.auth(world.telkomsel),
        ),
        400,
        "unknown-key",
    )
    problem(
        world.client.post(
            "/v1/attestations",
            json=world.kominfo.sign("attestation", attestation_body("kominfo", [])),
            headers=world.auth(world.kominfo),
        ),
        403,
        "forbidden",
    )


def test_attestation_for_100000_blocked_numbers(world: World, app):
    """Match and mismatch at 100,000 numbers; the expected set is streamed from the database."""
    import hashlib
    import uuid

    from sqlalchemy import insert

    from hub.db import db
    from hub.records.models import Assignment, Record

    n = 100_000
    numbers = [f"+62812{i:08d}" for i in range(n)]
    now = datetime.now(UTC).replace(microsecond=0)
    far = now + timedelta(days=30)
    with app.app_context():
        rows, arows = [], []
        for i, num in enumerate(numbers):
            rid = str(uuid.uuid4())
            h = hashlib.sha256(num.encode()).hexdigest()
            rows.append(
                {
                    "id": rid,
                    "seq": 10_000_000 + i,
                    "log_index": 10_000_000 + i,
                    "sha256": h,
                    "issuer": "kominfo",
                    "number": num,
                    "number_prefix": h[:5],
                    "number_sha256": h,
                    "action": "block",
                    "category": "scam",
                    "issued_at": now,
                    "in_force_until": far,
                    "supersedes": None,
                    "lifted_by": None,
                    "received_at": now,
                }
            )
            arows.append(
                {
                    "record_id": rid,
                    "partner_id": "telkomsel",
                    "seq": 10_000_000 + i,
                    "status": "acted",
                    "assigned_at": now,
                    "acted_at": now,
                    "outcome": "blocked",
                    "ack_id": None,
                }
            )
        for k in range(0, n, 20_000):
            db.session.execute(insert(Record), rows[k : k + 20_000])
            db.session.execute(insert(Assignment), arows[k : k + 20_000])
        db.session.commit()
    del rows, arows
    match = _attest(world, world.telkomsel, attestation_body("telkomsel", numbers))
    assert match.status_code == 201 and match.get_json()["match"] is True and match.get_json()["expected_count"] == n
    mismatch = _attest(world, world.telkomsel, attestation_body("telkomsel", numbers[1:]))
    assert mismatch.get_json()["match"] is False and mismatch.get_json()["expected_count"] == n
