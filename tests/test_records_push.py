"""PROTOCOL.md section 4, push: every per-item rule and its exact slug."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from keys.verify import verify_receipt
from tests.records_world import ISAT, TSEL, World
from tests.support import basic_auth, bearer, record_body

ITEM_STATUS = {
    "invalid-record": 400,
    "invalid-number": 400,
    "unknown-key": 400,
    "revoked-key": 400,
    "invalid-signature": 400,
    "issuer-mismatch": 403,
    "not-assigned": 403,
    "conflict": 409,
    "invalid-transition": 409,
}


def _ts(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def _slug(result: dict) -> str:
    assert result["status"] == "rejected", result
    assert set(result) == {"id", "status", "error"}
    err = result["error"]
    assert err["type"].startswith("urn:tangkal:problem:") and err["title"] and err["detail"]
    slug = err["type"].removeprefix("urn:tangkal:problem:")
    assert err["status"] == ITEM_STATUS[slug], (slug, err["status"])  # docs/protocol.md, "Judging a push"
    return slug


def _log_size(w: World) -> int:
    return w.client.get("/v1/log/head", headers=w.auth(w.kominfo)).get_json()["tree_head"]["size"]


def test_accepted_item_has_a_receipt_that_verifies(world: World):
    env = world.kominfo.sign("record", record_body("kominfo", TSEL))
    (res,) = world.push(world.kominfo, env)
    assert res["status"] == "accepted" and res["id"] == env["record"]["id"]
    jwks = world.client.get("/.well-known/jwks.json").get_json()
    body = verify_receipt(res["receipt"], jwks, env)
    assert body["kind"] == "record" and body["object_id"] == env["record"]["id"]
    assert body["hub"] == "tangkal" and body["seq"] == body["log_index"] + 1
    assert body["received_at"].endswith("Z")


def test_duplicate_returns_the_original_receipt_and_stores_nothing_more(world: World):
    env = world.kominfo.sign("record", record_body("kominfo", TSEL))
    (first,) = world.push(world.kominfo, env)
    size = _log_size(world)
    (again,) = world.push(world.kominfo, env)
    assert again["status"] == "duplicate"
    assert again["receipt"] == first["receipt"]
    assert _log_size(world) == size


def test_same_id_other_content_is_conflict(world: World):
    body = record_body("kominfo", TSEL)
    world.push(world.kominfo, world.kominfo.sign("record", body))
    size = _log_size(world)
    other = world.kominfo.sign("record", {**body, "reason": "something else"})
    (res,) = world.push(world.kominfo, other)
    assert _slug(res) == "conflict" and res["id"] == body["id"]
    assert _log_size(world) == size
    # in one batch: the later item with the same id is the conflict
    b2 = record_body("kominfo", TSEL)
    r = world.push(
        world.kominfo, world.kominfo.sign("record", b2), world.kominfo.sign("record", {**b2, "category": "spam"})
    )
    assert r[0]["status"] == "accepted" and _slug(r[1]) == "conflict"


def test_bad_items_never_spoil_good_ones_and_store_nothing(world: World):
    good1 = world.kominfo.sign("record", record_body("kominfo", TSEL))
    bad = world.kominfo.sign("record", record_body("kominfo", "0812-3456-7890"))
    good2 = world.kominfo.sign("record", record_body("kominfo", ISAT))
    tampered = world.kominfo.sign("record", record_body("kominfo", TSEL))
    tampered["record"]["reason"] = "changed after signing"
    results = world.push(world.kominfo, good1, bad, good2, tampered, "not an object")
    assert [r["status"] for r in results] == ["accepted", "rejected", "accepted", "rejected", "rejected"]
    assert [r["id"] for r in results] == [
        good1["record"]["id"],
        bad["record"]["id"],
        good2["record"]["id"],
        tampered["record"]["id"],
        None,
    ]
    assert (
        _slug(results[1]) == "invalid-number"
        and _slug(results[3]) == "invalid-signature"
        and _slug(results[4]) == "invalid-record"
    )
    for rejected in (bad, tampered):
        assert (
            world.client.get(f"/v1/records/{rejected['record']['id']}", headers=world.auth(world.kominfo)).status_code
            == 404
        )
    assert _log_size(world) == 2


def _mutations():
    def drop(member):
        return lambda b, s: (b.pop(member), None)[1]

    def put(member, value):
        return lambda b, s: (b.__setitem__(member, value), None)[1]

    return {
        "missing reason": drop("reason"),
        "missing evidence": drop("evidence"),
        "unknown record member": put("colour", "red"),
        "unknown evidence member": put("evidence", {"complaints": 1, "name": "Budi"}),
        "evidence digest not hex": put("evidence", {"complaints": 1, "digest": "XYZ"}),
        "evidence digest null": put("evidence", {"complaints": 1, "digest": None}),
        "evidence ref too long": put("evidence", {"complaints": 1, "ref": "r" * 201}),
        "complaints negative": put("evidence", {"complaints": -1}),
        "complaints as string": put("evidence", {"complaints": "17"}),
        "confidence 101": put("confidence", 101),
        "confidence bool": put("confidence", True),
        "confidence null": put("confidence", None),
        "uppercase uuid": put("id", "8D3F6C2E-6B1F-4F43-9A7E-0C8E2F1D9B10"),
        "not a uuid": put("id", "record-1"),
        "bad action": put("action", "ban"),
        "bad category": put("category", "fraud"),
        "empty channels": put("channels", []),
        "duplicate channels": put("channels", ["sms", "sms"]),
        "unknown channel": put("channels", ["fax"]),
        "empty reason": put("reason", ""),
        "blank reason": put("reason", "   "),
        "reason too long": put("reason", "x" * 1001),
        "offset timestamp": put("observed_at", "2026-11-28T10:00:00+00:00"),
        "microsecond timestamp": put("issued_at", "2026-11-28T10:00:00.123456Z"),
        "lowercase z": put("issued_at", "2026-11-28T10:00:00z"),
        "impossible date": put("observed_at", "2026-02-30T10:00:00Z"),
        "issued 6 minutes ahead": put("issued_at", _ts(timedelta(minutes=6))),
        "block with supersedes": put("supersedes", "8d3f6c2e-6b1f-4f43-9a7e-0c8e2f1d9b10"),
        "expires before issued": put("expires_at", _ts(timedelta(days=-1))),
        "issuer not a partner id": put("issuer", "Kominfo!"),
    }


@pytest.mark.parametrize("name", sorted(_mutations()))
def test_malformed_record_is_invalid_record(world: World, name: str):
    body = record_body("kominfo", TSEL)
    _mutations()[name](body, None)
    (res,) = world.push(world.kominfo, world.kominfo.sign("record", body))
    assert _slug(res) == "invalid-record", name


def test_field_level_detail_points_into_the_request_body(world: World):
    """The pointer is an RFC 6901 pointer into what was sent: the item's index, then its member."""
    good = world.kominfo.sign("record", record_body("kominfo", TSEL))
    bad = world.kominfo.sign("record", record_body("kominfo", TSEL, confidence=101))
    ok, res = world.push(world.kominfo, good, bad)
    assert ok["status"] == "accepted"
    assert res["error"]["errors"][0]["pointer"] == "/records/1/record/confidence"
    assert res["error"]["detail"].startswith("/records/1/record/confidence: ")


def test_issued_within_skew_is_fine(world: World):
    world.block(world.kominfo, TSEL, issued_at=_ts(timedelta(minutes=4)))


@pytest.mark.parametrize(
    "mutate",
    [
        lambda e: e.__setitem__("extra", 1),
        lambda e: e.pop("signature"),
        lambda e: e["signature"].__setitem__("alg", "EdDSA"),
        lambda e: e["signature"].__setitem__("extra", "x"),
        lambda e: e["signature"].__setitem__("value", e["signature"]["value"] + "=="),
        lambda e: e["signature"].__setitem__("value", e["signature"]["value"][:40]),
        lambda e: e.__setitem__("record", "not an object"),
    ],
    ids=[
        "envelope member",
        "no signature",
        "alg EdDSA",
        "signature member",
        "padded value",
        "short value",
        "record not object",
    ],
)
def test_malformed_envelope_is_invalid_record(world: World, mutate):
    env = world.kominfo.sign("record", record_body("kominfo", TSEL))
    mutate(env)
    (res,) = world.push(world.kominfo, env)
    assert _slug(res) == "invalid-record"


@pytest.mark.parametrize(
    "number, suggestion",
    [
        ("081234567890", "+6281234567890"),
        ("+62 812-3456-7890", "+6281234567890"),
        ("6281234567890", "+6281234567890"),
        ("+62811", None),
        ("telepon", None),
        (6281234567890, None),
    ],
)
def test_number_not_exactly_e164_is_invalid_number_naming_the_likely_form(world: World, number, suggestion):
    (res,) = world.push(world.kominfo, world.kominfo.sign("record", record_body("kominfo", number)))
    assert _slug(res) == "invalid-number"
    assert res["error"].get("suggestion") == suggestion
    if suggestion:
        assert suggestion in res["error"]["detail"]


def test_issuer_must_be_the_caller(world: World):
    env = world.kominfo.sign("record", record_body("kominfo", TSEL))
    (res,) = world.push(world.telkomsel, env)
    assert _slug(res) == "issuer-mismatch"


def test_unknown_and_revoked_keys_and_bad_signatures(world: World, cli):
    body = record_body("kominfo", TSEL)
    (res,) = world.push(world.kominfo, world.kominfo.sign("record", body, kid="kominfo-nope"))
    assert _slug(res) == "unknown-key"
    forged = world.telkomsel.sign("record", record_body("kominfo", TSEL), kid=world.kominfo.kid)
    (res,) = world.push(world.kominfo, forged)
    assert _slug(res) == "invalid-signature"
    assert cli("partner", "revoke-key", "kominfo", world.kominfo.kid).exit_code == 0
    (res,) = world.push(world.kominfo, world.kominfo.sign("record", record_body("kominfo", TSEL)))
    assert _slug(res) == "revoked-key"


def test_batch_level_errors_are_whole_request_problems(world: World):
    auth = world.auth(world.kominfo)
    env = world.kominfo.sign("record", record_body("kominfo", TSEL))

    def problem(resp, status, slug):
        assert resp.status_code == status, resp.get_data(as_text=True)
        assert resp.mimetype == "application/problem+json"
        assert resp.get_json()["type"] == f"urn:tangkal:problem:{slug}"

    problem(world.client.post("/v1/records", json={"records": []}, headers=auth), 400, "invalid-request")
    problem(world.client.post("/v1/records", json={"records": [env] * 1001}, headers=auth), 400, "invalid-request")
    problem(world.client.post("/v1/records", json={"records": [env], "more": 1}, headers=auth), 400, "invalid-request")
    problem(world.client.post("/v1/records", json={"record": [env]}, headers=auth), 400, "invalid-request")
    problem(world.client.post("/v1/records", json=[env], headers=auth), 400, "invalid-request")
    problem(world.client.post("/v1/records", json={"records": [env, env]}, headers=auth), 400, "invalid-request")
    problem(
        world.client.post("/v1/records", data="{", content_type="application/json", headers=auth), 400, "invalid-json"
    )
    problem(
        world.client.post("/v1/records", data=json.dumps({"records": [env]}), content_type="text/plain", headers=auth),
        415,
        "unsupported-media-type",
    )
    big = b'{"records": ["' + b"x" * (4 * 1024 * 1024 + 1) + b'"]}'
    problem(world.client.post("/v1/records", data=big, content_type="application/json", headers=auth), 413, "too-large")
    problem(world.client.post("/v1/records", json={"records": [env]}), 401, "unauthorized")
    tok = world.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "records:read"},
        headers=basic_auth(world.kominfo),
    ).get_json()["access_token"]
    problem(world.client.post("/v1/records", json={"records": [env]}, headers=bearer(tok)), 403, "forbidden")
    assert _log_size(world) == 0


def test_a_1000_item_batch_is_accepted(world: World):
    envs = [world.kominfo.sign("record", record_body("kominfo", f"+62812{i:08d}")) for i in range(1000)]
    results = world.push(world.kominfo, *envs)
    assert {r["status"] for r in results} == {"accepted"}
    seqs = [r["receipt"]["receipt"]["seq"] for r in results]
    assert seqs == sorted(seqs) and len(set(seqs)) == 1000
