"""PROTOCOL.md section 4: routing, unblocks, the pull cursor and look-ups."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime, timedelta

import pytest

from tests.records_world import FOREIGN, ISAT, TSEL, TSEL2, XL, World
from tests.support import record_body


def _ts(delta: timedelta) -> str:
    return (datetime.now(UTC) + delta).strftime("%Y-%m-%dT%H:%M:%SZ")


def _assignees(w: World, record_id: str) -> set[str]:
    resp = w.client.get(f"/v1/records/{record_id}", headers=w.auth(w.kominfo))
    return {a["partner"] for a in resp.get_json()["assignments"]}


def test_routing_home_operator_and_every_ott(world: World):
    tsel = world.block(world.kominfo, TSEL)
    isat = world.block(world.kominfo, ISAT)
    xl = world.block(world.kominfo, XL)
    foreign = world.block(world.kominfo, FOREIGN)
    assert _assignees(world, tsel["record"]["id"]) == {"telkomsel", "whatsapp", "telegram"}
    assert _assignees(world, isat["record"]["id"]) == {"indosat", "whatsapp", "telegram"}
    assert _assignees(world, xl["record"]["id"]) == {"whatsapp", "telegram"}  # no XL partner registered
    assert _assignees(world, foreign["record"]["id"]) == {"whatsapp", "telegram"}


def test_ott_issuer_is_assigned_too_and_operator_issuer_is_not_unless_home(world: World):
    by_wa = world.block(world.whatsapp, TSEL)
    assert _assignees(world, by_wa["record"]["id"]) == {"telkomsel", "whatsapp", "telegram"}
    by_isat = world.block(world.indosat, TSEL)
    assert _assignees(world, by_isat["record"]["id"]) == {"telkomsel", "whatsapp", "telegram"}


def test_unblock_by_issuer_goes_to_the_blocks_partners(world: World, register):
    block = world.block(world.telkomsel, TSEL)
    register("line", "ott")  # joins after the block: not assigned the unblock
    unblock = world.block(world.telkomsel, TSEL, action="unblock", supersedes=block["record"]["id"])
    assert _assignees(world, unblock["record"]["id"]) == {"telkomsel", "whatsapp", "telegram"}


def test_unblock_rules(world: World):
    block = world.block(world.telkomsel, TSEL)
    bid = block["record"]["id"]

    def attempt(who, number=TSEL, supersedes=bid):
        env = who.sign("record", record_body(who.id, number, action="unblock", supersedes=supersedes))
        (res,) = world.push(who, env)
        return res

    def slug(res):
        return res["error"]["type"].removeprefix("urn:tangkal:problem:")

    assert slug(attempt(world.indosat)) == "issuer-mismatch"
    assert slug(attempt(world.telkomsel, supersedes="8d3f6c2e-6b1f-4f43-9a7e-0c8e2f1d9b10")) == "invalid-record"
    assert slug(attempt(world.telkomsel, number=TSEL2)) == "invalid-record"
    no_supersedes = world.telkomsel.sign("record", record_body("telkomsel", TSEL, action="unblock"))
    assert slug(world.push(world.telkomsel, no_supersedes)[0]) == "invalid-record"
    first = attempt(world.kominfo)  # the ministry may lift anyone's block
    assert first["status"] == "accepted"
    assert slug(attempt(world.telkomsel)) == "conflict"  # already lifted
    assert slug(attempt(world.kominfo, supersedes=first["id"])) == "invalid-record"  # an unblock is not a block


def test_block_and_its_unblock_in_one_batch(world: World):
    b = world.telkomsel.sign("record", record_body("telkomsel", TSEL))
    u = world.telkomsel.sign("record", record_body("telkomsel", TSEL, action="unblock", supersedes=b["record"]["id"]))
    assert [r["status"] for r in world.push(world.telkomsel, b, u)] == ["accepted", "accepted"]
    assert world.client.get(f"/v1/numbers/{TSEL}", headers=world.auth(world.whatsapp)).get_json()["blocked"] is False


def test_pull_sees_exactly_what_the_partner_may_see(world: World):
    tsel = world.block(world.kominfo, TSEL)
    isat = world.block(world.kominfo, ISAT)
    own = world.block(world.telkomsel, FOREIGN)  # issued by telkomsel, not assigned to it
    ids = lambda items: [i["record"]["id"] for i in items]  # noqa: E731
    assert ids(world.pull_all(world.telkomsel)) == [tsel["record"]["id"], own["record"]["id"]]
    assert ids(world.pull_all(world.indosat)) == [isat["record"]["id"]]
    assert ids(world.pull_all(world.whatsapp)) == [r["record"]["id"] for r in (tsel, isat, own)]
    assert ids(world.pull_all(world.kominfo)) == [r["record"]["id"] for r in (tsel, isat, own)]
    item = world.pull_all(world.telkomsel)[1]
    assert item["assignment"] is None  # own record, not assigned
    assert set(item) == {"seq", "record", "signature", "receipt", "assignment"}
    assert item["record"] == own["record"] and item["signature"] == own["signature"]


def test_pull_cursor_pages_and_marks_first_delivery(world: World):
    envs = [world.kominfo.sign("record", record_body("kominfo", f"+62812{i:08d}")) for i in range(25)]
    world.push(world.kominfo, *envs)
    seen, after, pages = [], 0, 0
    while True:
        page = world.client.get(f"/v1/records?after={after}&limit=10", headers=world.auth(world.telkomsel)).get_json()
        pages += 1
        seen += page["items"]
        assert page["next_after"] == (page["items"][-1]["seq"] if page["items"] else after)
        after = page["next_after"]
        if not page["has_more"]:
            break
    assert pages == 3 and [i["record"]["id"] for i in seen] == [e["record"]["id"] for e in envs]
    assert all(i["assignment"]["status"] == "delivered" and i["assignment"]["delivered_at"] for i in seen)
    empty = world.client.get(f"/v1/records?after={after}", headers=world.auth(world.telkomsel)).get_json()
    assert empty == {"items": [], "next_after": after, "has_more": False}
    again = world.client.get("/v1/records?after=0&limit=1", headers=world.auth(world.telkomsel)).get_json()["items"][0]
    assert again["assignment"]["delivered_at"] == seen[0]["assignment"]["delivered_at"]  # first delivery kept


@pytest.mark.parametrize("query", ["after=-1", "after=abc", "limit=0", "limit=1001", "limit=ten", "after=1.5"])
def test_bad_pull_query_is_invalid_request(world: World, query):
    resp = world.client.get(f"/v1/records?{query}", headers=world.auth(world.telkomsel))
    assert resp.status_code == 400 and resp.get_json()["type"] == "urn:tangkal:problem:invalid-request"


def test_record_lookup_visibility_and_assignments(world: World):
    env = world.block(world.kominfo, TSEL)
    rid = env["record"]["id"]
    for who in (world.kominfo,):
        body = world.client.get(f"/v1/records/{rid}", headers=world.auth(who)).get_json()
        assert {a["partner"] for a in body["assignments"]} == {"telkomsel", "whatsapp", "telegram"}
        assert all(
            set(a) == {"partner", "status", "assigned_at", "delivered_at", "acted_at", "ack"}
            for a in body["assignments"]
        )
    as_operator = world.client.get(f"/v1/records/{rid}", headers=world.auth(world.telkomsel)).get_json()
    assert "assignments" not in as_operator and as_operator["assignment"]["status"] == "pending"
    hidden = world.client.get(f"/v1/records/{rid}", headers=world.auth(world.indosat))
    missing = world.client.get("/v1/records/8d3f6c2e-6b1f-4f43-9a7e-0c8e2f1d9b10", headers=world.auth(world.indosat))
    assert hidden.status_code == missing.status_code == 404
    assert hidden.get_json()["type"] == missing.get_json()["type"] == "urn:tangkal:problem:not-found"
    own = world.block(world.indosat, FOREIGN)
    assert (
        "assignments"
        in world.client.get(f"/v1/records/{own['record']['id']}", headers=world.auth(world.indosat)).get_json()
    )


def test_number_lookup_reflects_blocks_in_force(world: World):
    auth = world.auth(world.whatsapp)
    state = lambda n: world.client.get(f"/v1/numbers/{n}", headers=auth).get_json()  # noqa: E731
    assert state(TSEL) == {
        "number": TSEL,
        "carrier": "Telkomsel",
        "blocked": False,
        "reassigned_at": None,
        "record_count": 0,
        "records": [],
    }
    block = world.block(world.kominfo, TSEL)
    s = state(TSEL)
    assert s["blocked"] is True and [r["record"]["id"] for r in s["records"]] == [block["record"]["id"]]
    world.block(world.kominfo, TSEL, action="unblock", supersedes=block["record"]["id"])
    assert state(TSEL)["blocked"] is False and len(state(TSEL)["records"]) == 2
    # an expired block is not in force
    world.block(world.kominfo, ISAT, issued_at=_ts(timedelta(days=-3)), expires_at=_ts(timedelta(days=-1)))
    assert state(ISAT)["blocked"] is False
    assert state(FOREIGN)["carrier"] is None
    # indosat may not see records for a telkomsel number it was not assigned
    assert world.client.get(f"/v1/numbers/{TSEL}", headers=world.auth(world.indosat)).get_json()["records"] == []


def test_default_lifetime_by_category_is_configurable(make_app, register, token):
    app = make_app(CATEGORY_LIFETIME_DAYS={"spam": 1, "scam": 365})
    client = app.test_client()
    from tests.support import bearer

    kom = register("kominfo", "ministry")
    auth = bearer(token(kom))
    old_spam = kom.sign("record", record_body("kominfo", TSEL, category="spam", issued_at=_ts(timedelta(days=-2))))
    old_scam = kom.sign("record", record_body("kominfo", ISAT, category="scam", issued_at=_ts(timedelta(days=-2))))
    client.post("/v1/records", json={"records": [old_spam, old_scam]}, headers=auth)
    assert client.get(f"/v1/numbers/{TSEL}", headers=auth).get_json()["blocked"] is False
    assert client.get(f"/v1/numbers/{ISAT}", headers=auth).get_json()["blocked"] is True


@pytest.mark.parametrize(
    "number, status, slug", [("081234567890", 400, "invalid-number"), ("+62811", 400, "invalid-number")]
)
def test_number_lookup_refuses_non_e164(world: World, number, status, slug):
    resp = world.client.get(f"/v1/numbers/{number}", headers=world.auth(world.whatsapp))
    assert resp.status_code == status and resp.get_json()["type"] == f"urn:tangkal:problem:{slug}"
    assert "+6281234567890" in resp.get_json()["detail"] or number == "+62811"


def test_hash_range_lists_numbers_blocked_now(world: World):
    blocked = world.block(world.kominfo, TSEL)
    world.block(world.kominfo, TSEL2)
    world.block(world.kominfo, TSEL2, action="unblock", supersedes=world.pull_all(world.kominfo)[-1]["record"]["id"])
    h = hashlib.sha256(TSEL.encode()).hexdigest()
    h2 = hashlib.sha256(TSEL2.encode()).hexdigest()
    body = world.client.get(f"/v1/numbers/hash-range/{h[:5]}", headers=world.auth(world.whatsapp)).get_json()
    assert body == {"prefix": h[:5], "suffixes": [h[5:]]}
    assert (
        world.client.get(f"/v1/numbers/hash-range/{h2[:5]}", headers=world.auth(world.whatsapp)).get_json()["suffixes"]
        == []
    )
    for bad in ("ABCDE", "abcd", "abcdef", "ghijk"):
        resp = world.client.get(f"/v1/numbers/hash-range/{bad}", headers=world.auth(world.whatsapp))
        assert resp.status_code == 400 and resp.get_json()["type"] == "urn:tangkal:problem:invalid-request"
    del blocked


def test_lookups_need_records_read(world: World):
    from tests.support import basic_auth, bearer

    tok = world.client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "scope": "log:read"},
        headers=basic_auth(world.whatsapp),
    ).get_json()["access_token"]
    for path in (f"/v1/numbers/{TSEL}", "/v1/numbers/hash-range/abcde", "/v1/records", "/v1/records/x"):
        assert world.client.get(path, headers=bearer(tok)).status_code == 403, path


def test_number_lookup_lists_the_newest_100_and_counts_what_the_caller_may_see(world: World):
    envs = [world.kominfo.sign("record", record_body("kominfo", TSEL)) for _ in range(103)]
    world.push(world.kominfo, *envs[:60])
    world.push(world.kominfo, *envs[60:])
    world.block(world.indosat, TSEL)  # indosat's own record of a telkomsel number: indosat sees only this one
    ott = world.client.get(f"/v1/numbers/{TSEL}", headers=world.auth(world.whatsapp)).get_json()
    assert ott["record_count"] == 104 and len(ott["records"]) == 100
    seqs = [item["seq"] for item in ott["records"]]
    assert seqs == sorted(seqs, reverse=True)  # newest first
    assert seqs[0] == max(i["seq"] for i in world.pull_all(world.whatsapp))
    operator = world.client.get(f"/v1/numbers/{TSEL}", headers=world.auth(world.telkomsel)).get_json()
    assert operator["record_count"] == 104  # the home operator is assigned indosat's record too
    assert world.client.get(f"/v1/numbers/{TSEL}", headers=world.auth(world.indosat)).get_json()["record_count"] == 1
    ministry = world.client.get(f"/v1/numbers/{TSEL}", headers=world.auth(world.kominfo)).get_json()
    assert ministry["record_count"] == 104 and all(i["assignment"] is None for i in ministry["records"])
    assert ott["reassigned_at"] is None


def _canonical(obj) -> bytes:
    from keys.jcs import canonicalize

    return canonicalize(obj)


def test_pulled_items_are_the_records_and_receipts_as_accepted(world: World, app):
    """Byte for byte: the record and signature as pushed, the receipt the push answered with."""
    from hub.ledger.receipts import receipt
    from hub.signing import hub_keys

    envs = [
        world.kominfo.sign("record", record_body("kominfo", n, reason="Penipuan \u00e9 \u201cbank\u201d"))
        for n in (TSEL, ISAT)
    ]
    results = world.push(world.kominfo, *envs)
    raw = world.client.get("/v1/records?after=0&limit=10", headers=world.auth(world.whatsapp)).get_data()
    items = json.loads(raw)["items"]
    for env, res, item in zip(envs, results, items):
        assert _canonical(item["record"]) == _canonical(env["record"])
        assert item["signature"] == env["signature"] and item["receipt"] == res["receipt"]
        # the stored receipt is exactly what signing it again with the same key gives (Ed25519 is deterministic)
        with app.app_context():
            from keys.timefmt import parse_ts

            r = res["receipt"]["receipt"]
            current = hub_keys().current().signer
            again = receipt("record", r["object_id"], r["sha256"], r["log_index"], parse_ts(r["received_at"]), current)
        assert _canonical(again) == _canonical(item["receipt"])
        # the record member is spliced in as its JCS bytes, not re-encoded
        assert b'"record":' + _canonical(env["record"]) in raw


def test_receipts_survive_rotation_and_are_signed_again_after_retirement(world: World, cli, token):
    from keys.verify import verify_receipt

    env = world.kominfo.sign("record", record_body("kominfo", TSEL))
    (first,) = world.push(world.kominfo, env)
    old_kid = first["receipt"]["signature"]["kid"]
    assert cli("keys", "rotate").exit_code == 0
    pulled = world.pull_all(world.whatsapp)[0]["receipt"]
    (dup,) = world.push(world.kominfo, env)
    assert pulled == first["receipt"] and dup["receipt"] == first["receipt"]  # the receipt as issued, old key
    assert cli("keys", "retire", old_kid).exit_code == 0
    world.tokens.update({p.id: token(p) for p in (world.kominfo, world.whatsapp)})  # the old key's tokens fail now
    jwks = world.client.get("/.well-known/jwks.json").get_json()
    resigned = world.pull_all(world.whatsapp)[0]["receipt"]
    (dup,) = world.push(world.kominfo, env)
    assert resigned["signature"]["kid"] != old_kid and dup["receipt"] == resigned
    assert resigned["receipt"] == first["receipt"]["receipt"]
    verify_receipt(resigned, jwks, env)
    looked_up = world.client.get(f"/v1/numbers/{TSEL}", headers=world.auth(world.whatsapp)).get_json()
    assert looked_up["records"][0]["receipt"] == resigned
