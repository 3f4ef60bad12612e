"""The TAXII 2.1 feed (PROTOCOL.md section 11), read with the OASIS reference client taxii2-client.

What a threat-intelligence platform depends on: it can subscribe with a
bearer token and the client it already runs, every object it gets is valid
STIX 2.1 (stix2-validator), every indicator still carries a record whose
issuer's signature verifies, a lifted block becomes a revoked new version,
and it sees exactly what it may pull, nothing else.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
import requests
from stix2validator import ValidationOptions, validate_instance
from taxii2client.v21 import Server, as_pages

from hub.taxii import stix
from keys.jwk import key_from_jwks
from keys.signing import verify_object
from keys.timefmt import format_ts, parse_ts
from tests.records_world import FOREIGN, ISAT, TSEL, TSEL2, XL, World
from tests.support import PartnerCreds, basic_auth, bearer, record_body, register_partner
from tests.test_partners_support import serve

TAXII = "application/taxii+json;version=2.1"
ROOT = "/taxii2/api/collections/blocks"
SIGNED = stix.SIGNED_RECORD_EXTENSION


class Bearer(requests.auth.AuthBase):
    """What a partner hands taxii2-client as ``auth=``: the hub's OAuth access token."""

    def __init__(self, token: str) -> None:
        self.token = token

    def __call__(self, r: requests.PreparedRequest) -> requests.PreparedRequest:
        r.headers["Authorization"] = f"Bearer {self.token}"
        return r


def taxii_get(world: World, who: PartnerCreds, path: str, **params: Any) -> Any:
    resp = world.client.get(path, query_string=params, headers={"Accept": TAXII, **world.auth(who)})
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.headers["Content-Type"] == TAXII
    return resp


def all_objects(world: World, who: PartnerCreds, limit: int = 1000, **params: Any) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    query = {"limit": limit, **params}
    while True:
        body = taxii_get(world, who, f"{ROOT}/objects/", **query).get_json()
        out += body.get("objects", [])
        if not body["more"]:
            return out
        query["next"] = body["next"]


def assert_valid_stix(obj: dict[str, Any]) -> None:
    result = validate_instance(obj, ValidationOptions(version="2.1"))
    assert result.is_valid, [str(e) for e in result.errors]


def verify_signed_records(obj: dict[str, Any], jwks_of: Any) -> list[dict[str, Any]]:
    """The records inside an indicator, each checked against its issuer's published key."""
    ext = obj["extensions"][SIGNED]
    envelopes = [ext["signed_record"]] + ([ext["signed_unblock"]] if "signed_unblock" in ext else [])
    for env in envelopes:
        record = env["record"]
        verify_object(env, "record", key_from_jwks(jwks_of(record["issuer"]), env["signature"]["kid"]))
    return [env["record"] for env in envelopes]


def test_taxii2_client_subscribes_with_a_bearer_token(app, world: World, register):
    """Discovery to objects with the reference client; objects valid STIX, records verifying."""
    world.block(world.kominfo, TSEL)
    world.block(world.telkomsel, ISAT, confidence=40)
    world.block(world.whatsapp, FOREIGN, expires_at="2030-01-01T00:00:00Z")
    with serve(app) as url:
        token = requests.post(
            url + "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(world.whatsapp.client_id, world.whatsapp.client_secret),
            timeout=10,
        ).json()["access_token"]
        server = Server(url + "/taxii2/", auth=Bearer(token))
        assert server.title == "Tangkal"
        (api_root,) = server.api_roots
        assert api_root.url == server.default.url == url + "/taxii2/api/"
        (collection,) = api_root.collections
        assert (collection.title, collection.can_read, collection.can_write) == ("blocks", True, False)
        pages = list(as_pages(collection.get_objects, per_request=2))
        objects = [o for page in pages for o in page.get("objects", [])]

        def jwks_of(issuer: str) -> dict[str, Any]:
            return requests.get(f"{url}/v1/partners/{issuer}/keys", timeout=10).json()

        assert len(pages) == 5 and [len(p.get("objects", [])) for p in pages] == [2, 2, 2, 2, 1]
        for obj in objects:
            assert_valid_stix(obj)
        types = [o["type"] for o in objects]
        assert types == ["identity", "extension-definition", "extension-definition"] + ["phone-number", "indicator"] * 3
        indicators = [o for o in objects if o["type"] == "indicator"]
        records = [verify_signed_records(o, jwks_of)[0] for o in indicators]
        assert [r["number"] for r in records] == [TSEL, ISAT, FOREIGN]
        for obj, record in zip(indicators, records):
            assert obj["id"] == f"indicator--{record['id']}"
            assert obj["pattern"] == f"[phone-number:value = '{record['number']}']"
            assert parse_ts(obj["valid_from"]) == parse_ts(record["issued_at"])
            assert obj.get("confidence") == record.get("confidence")
            assert {"source_name": "tangkal", "external_id": record["id"]}.items() <= obj["external_references"][
                0
            ].items()
        assert parse_ts(indicators[2]["valid_until"]) == parse_ts("2030-01-01T00:00:00Z")
        numbers = [o for o in objects if o["type"] == "phone-number"]
        assert [n["value"] for n in numbers] == [TSEL, ISAT, FOREIGN]
        assert numbers[0]["id"] == stix.phone_number(TSEL).id  # the deterministic STIX id
        assert {o["id"] for o in objects if o["type"] == "extension-definition"} == {
            stix.PHONE_NUMBER_EXTENSION,
            SIGNED,
        }
        # the manifest lists the same versions, with the hub's acceptance time as date_added
        manifest = collection.get_manifest()
        assert [m["id"] for m in manifest["objects"]] == [o["id"] for o in objects]


def test_a_partner_sees_through_taxii_exactly_what_it_may_pull(world: World, register, token):
    """Visibility is the pull's: own records and those routed to it (all for the ministry); 404 for the rest."""
    world.block(world.kominfo, TSEL)
    world.block(world.kominfo, ISAT)
    world.block(world.telkomsel, XL)  # not routed to indosat
    world.block(world.indosat, TSEL2)  # routed to telkomsel (its network) and the OTTs
    world.block(world.whatsapp, FOREIGN)
    latecomer = register("line", "ott")  # joined after everything: sees nothing of it
    world.tokens["line"] = token(latecomer)
    for who in (world.kominfo, world.telkomsel, world.indosat, world.whatsapp, latecomer):
        pulled = {item["record"]["id"] for item in world.pull_all(who)}
        objects = all_objects(world, who, limit=3, **{"match[version]": "all"})
        seen = {o["extensions"][SIGNED]["signed_record"]["record"]["id"] for o in objects if o["type"] == "indicator"}
        assert seen == pulled, who.id
        numbers = {o["value"] for o in objects if o["type"] == "phone-number"}
        assert numbers == {item["record"]["number"] for item in world.pull_all(who)}, who.id
        for item in world.pull_all(world.kominfo):
            rid = item["record"]["id"]
            resp = world.client.get(f"{ROOT}/objects/indicator--{rid}/", headers={"Accept": TAXII, **world.auth(who)})
            assert resp.status_code == (200 if rid in pulled else 404), (who.id, rid)
            assert resp.headers["Content-Type"] == TAXII
    assert len(world.pull_all(world.indosat)) == 2  # its own, and the ministry's on its network


def test_taxii_errors_are_taxii_messages(world: World, register, token):
    """401 without a token, 403 without records:read, 406 for a wrong Accept, 400 and 404: TAXII error messages."""
    world.block(world.kominfo, TSEL)
    cases = [
        ({}, {"Accept": TAXII}, 401),
        ({}, {"Accept": TAXII, **bearer("not-a-token")}, 401),
        ({}, {"Accept": TAXII, **bearer(token(world.telkomsel, scope="log:read"))}, 403),
        ({}, {"Accept": "application/json", **world.auth(world.telkomsel)}, 406),
        ({}, {"Accept": "application/taxii+json;version=2.0", **world.auth(world.telkomsel)}, 406),
        ({}, {"Accept": "text/html, application/stix+json;q=0.9", **world.auth(world.telkomsel)}, 406),
        ({}, {"Accept": "application/taxii+json;q=0", **world.auth(world.telkomsel)}, 406),
        ({"limit": "0"}, {"Accept": TAXII, **world.auth(world.telkomsel)}, 400),
        ({"limit": "ten"}, {"Accept": TAXII, **world.auth(world.telkomsel)}, 400),
        ({"next": "not!a!token"}, {"Accept": TAXII, **world.auth(world.telkomsel)}, 400),
        ({"added_after": "yesterday"}, {"Accept": TAXII, **world.auth(world.telkomsel)}, 400),
        ({"match[version]": "newest"}, {"Accept": TAXII, **world.auth(world.telkomsel)}, 400),
    ]
    for query, headers, status in cases:
        resp = world.client.get(f"{ROOT}/objects/", query_string=query, headers=headers)
        assert resp.status_code == status, (query, headers, resp.get_data(as_text=True))
        assert resp.headers["Content-Type"] == TAXII
        body = resp.get_json()
        assert body["http_status"] == str(status) and body["title"] and body["description"]
        if status == 401:
            assert resp.headers["WWW-Authenticate"].startswith("Bearer")
        slug = {400: "invalid-request", 401: "unauthorized", 403: "forbidden", 406: "not-acceptable"}[status]
        assert body["error_code"] == slug
    for path in ("/taxii2/api/collections/another/", "/taxii2/api/collections/blocks/status/", "/taxii2/nothing/"):
        resp = world.client.get(path, headers={"Accept": TAXII, **world.auth(world.kominfo)})
        assert (resp.status_code, resp.headers["Content-Type"]) == (404, TAXII), path
    resp = world.client.post(f"{ROOT}/objects/", json={"objects": []}, headers=world.auth(world.kominfo))
    assert (resp.status_code, resp.headers["Content-Type"]) == (405, TAXII)
    assert world.client.get("/taxii2/nothing/", headers={"Accept": TAXII}).status_code == 401  # who asks, first
    # any Accept that allows TAXII 2.1, and none at all, is answered
    for accept in ("application/taxii+json", "*/*", "application/*", f"text/html;q=0.5, {TAXII}"):
        resp = world.client.get(f"{ROOT}/", headers={"Accept": accept, **world.auth(world.kominfo)})
        assert resp.status_code == 200, accept
    assert world.client.get(f"{ROOT}/", headers=world.auth(world.kominfo)).status_code == 200


def test_an_unblock_is_a_revoked_new_version_of_its_blocks_indicator(world: World, clock):
    block = world.block(world.kominfo, TSEL)
    bid = block["record"]["id"]
    clock.advance(timedelta(minutes=10))
    unblock_body = record_body("kominfo", TSEL, action="unblock", supersedes=bid, reason="Appeal upheld")
    (result,) = world.push(world.kominfo, world.kominfo.sign("record", unblock_body))
    assert result["status"] == "accepted"
    unblocked_at = parse_ts(result["receipt"]["receipt"]["received_at"])
    sid = f"indicator--{bid}"

    latest = all_objects(world, world.telkomsel)  # match[version]=last by default
    (only,) = [o for o in latest if o["type"] == "indicator"]
    assert only["id"] == sid and only["revoked"] is True
    assert parse_ts(only["modified"]) == unblocked_at
    assert parse_ts(only["valid_until"]) == unblocked_at  # it stopped being in force then
    assert_valid_stix(only)
    ext = only["extensions"][SIGNED]
    assert ext["signed_unblock"]["record"]["supersedes"] == bid and ext["signed_record"] == block

    every = [o for o in all_objects(world, world.telkomsel, **{"match[version]": "all"}) if o["type"] == "indicator"]
    assert [o["id"] for o in every] == [sid, sid] and "revoked" not in every[0] and every[1] == only
    first = [o for o in all_objects(world, world.telkomsel, **{"match[version]": "first"}) if o["type"] == "indicator"]
    assert first == [every[0]]
    at_version = all_objects(world, world.telkomsel, **{"match[version]": every[0]["modified"]})
    assert [o for o in at_version if o["type"] == "indicator"] == [every[0]]

    versions = taxii_get(world, world.telkomsel, f"{ROOT}/objects/{sid}/versions/").get_json()
    assert versions["versions"] == [every[0]["modified"], every[1]["modified"]]
    one = taxii_get(world, world.telkomsel, f"{ROOT}/objects/{sid}/").get_json()
    assert one["objects"] == [only]
    both = taxii_get(world, world.telkomsel, f"{ROOT}/objects/{sid}/", **{"match[version]": "all"}).get_json()
    assert both["objects"] == every
    manifest = taxii_get(world, world.telkomsel, f"{ROOT}/manifest/", **{"match[type]": "indicator"}).get_json()
    assert [(m["id"], m["version"]) for m in manifest["objects"]] == [(sid, only["modified"])]


def test_a_block_and_its_unblock_in_one_batch_make_two_versions(world: World):
    block = world.kominfo.sign("record", record_body("kominfo", TSEL))
    bid = block["record"]["id"]
    unblock = world.kominfo.sign("record", record_body("kominfo", TSEL, action="unblock", supersedes=bid))
    assert [r["status"] for r in world.push(world.kominfo, block, unblock)] == ["accepted", "accepted"]
    every = [o for o in all_objects(world, world.whatsapp, **{"match[version]": "all"}) if o["type"] == "indicator"]
    assert len(every) == 2 and parse_ts(every[1]["modified"]) == parse_ts(every[0]["modified"]) + timedelta(
        milliseconds=1
    )
    for obj in every:
        assert_valid_stix(obj)


def test_an_unblock_the_hub_issues_flows_like_any_other(app, world: World):
    """A reassigned number's blocks are lifted by unblocks whose issuer is the hub (HUB_ID), signed with its key."""
    block = world.block(world.telkomsel, ISAT)
    bid = block["record"]["id"]
    hub_id = app.config["HUB_ID"]
    effective = format_ts(parse_ts(block["record"]["issued_at"]) + timedelta(seconds=1))
    event = {
        "id": str(uuid.uuid4()),
        "operator": "indosat",
        "number": ISAT,
        "event": "reassigned",
        "effective_at": effective,
    }
    resp = world.client.post(
        "/v1/number-events",
        json={"number_events": [world.indosat.sign("number_event", event)]},
        headers=world.auth(world.indosat),
    )
    assert resp.get_json()["results"][0]["status"] == "accepted", resp.get_json()
    for who in (world.indosat, world.whatsapp, world.kominfo):
        (obj,) = [o for o in all_objects(world, who) if o["type"] == "indicator" and o["id"] == f"indicator--{bid}"]
        assert obj["revoked"] is True, who.id
        assert_valid_stix(obj)
        (_, lifted_by) = verify_signed_records(
            obj,
            lambda issuer: world.client.get(
                "/.well-known/jwks.json" if issuer == hub_id else f"/v1/partners/{issuer}/keys"
            ).get_json(),
        )
        assert lifted_by["issuer"] == hub_id
    # the block's issuer is neither assigned the hub's unblock nor its issuer: its view is the pull's
    mine = [o for o in all_objects(world, world.telkomsel) if o["type"] == "indicator"]
    assert len(mine) == 1 and "revoked" not in mine[0]


def test_added_after_and_filters(world: World, clock):
    first = world.block(world.kominfo, TSEL)
    clock.advance(timedelta(minutes=10))
    second = world.block(world.kominfo, ISAT)
    second_at = taxii_get(world, world.kominfo, f"{ROOT}/objects/indicator--{second['record']['id']}/").headers[
        "X-TAXII-Date-Added-First"
    ]
    between = stix.stix_ts(parse_ts(second_at.replace(".000", "")) - timedelta(minutes=5))
    resp = taxii_get(world, world.kominfo, f"{ROOT}/objects/", added_after=between)
    objects = resp.get_json()["objects"]
    assert [o["type"] for o in objects] == ["phone-number", "indicator"]
    assert objects[1]["id"] == f"indicator--{second['record']['id']}"
    assert resp.headers["X-TAXII-Date-Added-First"] == resp.headers["X-TAXII-Date-Added-Last"] == second_at
    assert "objects" not in taxii_get(world, world.kominfo, f"{ROOT}/objects/", added_after=second_at).get_json()
    ids = f"indicator--{first['record']['id']},{stix.PHONE_NUMBER_EXTENSION}"
    picked = taxii_get(world, world.kominfo, f"{ROOT}/objects/", **{"match[id]": ids}).get_json()["objects"]
    assert [o["id"] for o in picked] == [stix.PHONE_NUMBER_EXTENSION, f"indicator--{first['record']['id']}"]
    numbers = taxii_get(world, world.kominfo, f"{ROOT}/objects/", **{"match[type]": "phone-number"}).get_json()
    assert [o["value"] for o in numbers["objects"]] == [TSEL, ISAT]
    assert (
        "objects"
        not in taxii_get(world, world.kominfo, f"{ROOT}/objects/", **{"match[spec_version]": "2.0"}).get_json()
    )
    # a phone-number is found by its deterministic id, even one the platform computed itself
    pid = stix.phone_number(ISAT).id
    assert taxii_get(world, world.kominfo, f"{ROOT}/objects/{pid}/").get_json()["objects"][0]["value"] == ISAT
    resp = world.client.get(
        f"{ROOT}/objects/{stix.phone_number(XL).id}/", headers={"Accept": TAXII, **world.auth(world.kominfo)}
    )
    assert resp.status_code == 404


def test_next_goes_on_from_where_the_last_page_stopped(world: World):
    """A client that keeps the last page's next (given also when more is false) gets only what came since."""
    world.block(world.kominfo, TSEL)
    body = taxii_get(world, world.whatsapp, f"{ROOT}/objects/", limit=1000).get_json()
    assert body["more"] is False and len(body["objects"]) == 5
    assert "objects" not in taxii_get(world, world.whatsapp, f"{ROOT}/objects/", next=body["next"]).get_json()
    newer = world.block(world.indosat, TSEL)  # the same number: no second phone-number object
    later = taxii_get(world, world.whatsapp, f"{ROOT}/objects/", next=body["next"]).get_json()
    assert [o["id"] for o in later["objects"]] == [f"indicator--{newer['record']['id']}"]


@pytest.mark.parametrize("version", ["7", "6", "8"])
def test_record_ids_stix_does_not_admit_still_make_valid_indicators(world: World, version: str):
    rid = f"0193a5c2-7b4e-{version}c3d-8e2f-1a2b3c4d5e6f"
    world.block(world.kominfo, TSEL, id=rid)
    (obj,) = [o for o in all_objects(world, world.kominfo) if o["type"] == "indicator"]
    assert obj["id"] == "indicator--0193a5c2-7b4e-4c3d-8e2f-1a2b3c4d5e6f"
    assert obj["external_references"][0]["external_id"] == rid
    assert_valid_stix(obj)
    assert taxii_get(world, world.kominfo, f"{ROOT}/objects/{obj['id']}/").get_json()["objects"] == [obj]


def test_taxii_reads_mark_nothing_delivered(world: World):
    """Only the pull delivers (docs/protocol.md, "TAXII and the SLA"): a TIP reading the feed is not the enforcer."""
    block = world.block(world.kominfo, TSEL)
    rid = block["record"]["id"]
    assert len(all_objects(world, world.telkomsel)) == 5
    taxii_get(world, world.telkomsel, f"{ROOT}/objects/indicator--{rid}/")
    mine = world.client.get(f"/v1/records/{rid}", headers=world.auth(world.telkomsel)).get_json()["assignment"]
    assert (mine["status"], mine["delivered_at"]) == ("pending", None)
    (item,) = world.pull_all(world.telkomsel)
    assert item["assignment"]["status"] == "delivered"


def test_every_taxii_operation_is_in_the_openapi_document(client):
    doc = client.get("/openapi.json").get_json()
    ops = {
        (path, method): op
        for path, item in doc["paths"].items()
        if path.startswith("/taxii2/")
        for method, op in item.items()
    }
    assert {p for p, _ in ops} == {
        "/taxii2/",
        "/taxii2/api/",
        "/taxii2/api/collections/",
        "/taxii2/api/collections/{collection_id}/",
        "/taxii2/api/collections/{collection_id}/objects/",
        "/taxii2/api/collections/{collection_id}/manifest/",
        "/taxii2/api/collections/{collection_id}/objects/{object_id}/",
        "/taxii2/api/collections/{collection_id}/objects/{object_id}/versions/",
    }
    assert len({op["operationId"] for op in ops.values()}) == len(ops) == 8
    for (path, _), op in ops.items():
        assert op["security"] == [{"oauth2": ["records:read"]}], path
        assert TAXII in op["responses"]["200"]["content"], path
        assert op["responses"]["200"]["content"][TAXII]["example"], path
        assert TAXII in op["responses"]["default"]["content"], path
    names = {p["name"] for p in ops[("/taxii2/api/collections/{collection_id}/objects/", "get")]["parameters"]}
    assert {"added_after", "limit", "next", "match[type]", "match[id]", "match[version]"} <= names


def test_rate_limited_taxii_request_is_a_taxii_error_with_retry_after(make_app):
    app = make_app(RATELIMIT_ENABLED=True, RATELIMIT_STRATEGY="moving-window", RATELIMIT_DEFAULT="3 per minute")
    client = app.test_client()
    ott = register_partner(app, "whatsapp", "ott")
    tok = client.post("/oauth/token", data={"grant_type": "client_credentials"}, headers=basic_auth(ott)).get_json()
    headers = {"Accept": TAXII, **bearer(tok["access_token"])}
    statuses = [client.get(f"{ROOT}/objects/", headers=headers).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    resp = client.get(f"{ROOT}/objects/", headers=headers)
    assert resp.headers["Content-Type"] == TAXII and int(resp.headers["Retry-After"]) >= 1
    assert resp.get_json()["error_code"] == "rate-limited" and resp.get_json()["http_status"] == "429"


def test_every_taxii_read_of_partner_data_is_in_the_audit_trail(world: World):
    """PROTOCOL 1.1 section 9 ("TAXII pages"): the ministry sees who read what through TAXII, by id and number."""
    a = world.block(world.kominfo, TSEL)
    b = world.block(world.telkomsel, ISAT)
    a_sid, b_sid = f"indicator--{a['record']['id']}", f"indicator--{b['record']['id']}"
    pid = stix.phone_number_id(TSEL)
    statics = [stix.AUTHOR_ID, stix.PHONE_NUMBER_EXTENSION, SIGNED]
    reader = world.whatsapp
    taxii_get(world, reader, "/taxii2/")  # no partner data: not audited
    taxii_get(world, reader, f"{ROOT}/")
    objects = taxii_get(world, reader, f"{ROOT}/objects/", limit=1000).get_json()["objects"]
    taxii_get(world, reader, f"{ROOT}/objects/{a_sid}/")
    taxii_get(world, reader, f"{ROOT}/objects/{pid}/")
    taxii_get(world, reader, f"{ROOT}/objects/{b_sid}/versions/")
    taxii_get(world, reader, f"{ROOT}/manifest/", **{"match[type]": "indicator"})
    resp = world.client.get(
        f"{ROOT}/objects/indicator--{uuid.uuid4()}/", headers={"Accept": TAXII, **world.auth(reader)}
    )
    assert resp.status_code == 404  # nothing served: nothing to record

    resp = world.client.get("/v1/audit", query_string={"partner": "whatsapp"}, headers=world.auth(world.kominfo))
    assert resp.status_code == 200, resp.get_data(as_text=True)
    rows = [(r["endpoint"], r["ids"], r["numbers"], r["count"]) for r in resp.get_json()["items"]]
    base = "GET /taxii2/api/collections/{collection_id}"
    a_rid, b_rid = a["record"]["id"], b["record"]["id"]
    # what the answer shows, STIX ids first, then the records behind them (by seq, as a pull is recorded)
    assert rows == [
        (f"{base}/objects/", [o["id"] for o in objects] + [a_rid, b_rid], sorted([TSEL, ISAT]), 7),
        (f"{base}/objects/{{object_id}}/", [a_sid, a_rid], [TSEL], 1),
        (f"{base}/objects/{{object_id}}/", [pid, a_rid], [TSEL], 1),
        # an object's versions and the manifest show ids and timestamps, never a number
        (f"{base}/objects/{{object_id}}/versions/", [b_sid], [], 1),
        (f"{base}/manifest/", [a_sid, b_sid], [], 2),
    ]
    assert rows[0][1][:3] == statics
    by_number = world.client.get("/v1/audit", query_string={"number": TSEL}, headers=world.auth(world.kominfo))
    assert [(r["partner"], r["ids"]) for r in by_number.get_json()["items"]] == [
        ("whatsapp", rows[0][1]),
        ("whatsapp", [a_sid, a_rid]),
        ("whatsapp", [pid, a_rid]),
    ]


def _stored(body: dict[str, Any], seq: int, received_at: str, until: str | None = None) -> stix.StoredRecord:
    signed = {"record": body, "signature": {"alg": "Ed25519", "kid": "k-1", "value": "c2ln"}}
    ends = parse_ts(until) if until is not None else None
    return stix.StoredRecord(body["id"], seq, seq - 1, datetime.fromisoformat(received_at), ends, signed)
