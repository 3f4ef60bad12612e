"""``GET /openapi.json`` is a contract generators accept (issue 12; PROTOCOL 1.1 section 9)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

ROOT = Path(__file__).resolve().parent.parent
METHODS = ("get", "post", "put", "patch", "delete")


@pytest.fixture
def doc(make_app: Any) -> dict[str, Any]:
    app = make_app(HUB_URL="https://hub.tangkal.example")
    resp = app.test_client().get("/openapi.json")  # no token: the document is public
    assert resp.status_code == 200
    return dict(resp.get_json())


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(path, m, op) for path, ops in doc["paths"].items() for m, op in ops.items() if m in METHODS]


def _check(doc: dict[str, Any], schema: dict[str, Any], value: Any, where: str) -> None:
    validator = Draft202012Validator({**schema, "components": doc["components"]})
    errors = sorted(validator.iter_errors(value), key=str)
    assert not errors, f"{where}: the example fails its own schema: {errors[0].message} at {list(errors[0].path)}"


def test_the_document_is_valid_openapi_3_1(doc: dict[str, Any]):
    assert doc["openapi"].startswith("3.1.")
    validate(doc)  # openapi-spec-validator: raises on the first violation


def test_servers_and_token_url_are_the_hubs_url(doc: dict[str, Any]):
    assert doc["servers"][0]["url"] == "https://hub.tangkal.example"
    flow = doc["components"]["securitySchemes"]["oauth2"]["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "https://hub.tangkal.example/oauth/token"


def test_every_operation_has_a_unique_operation_id_a_summary_and_examples(doc: dict[str, Any]):
    ops = _operations(doc)
    ids = Counter(op.get("operationId") for _, _, op in ops)
    assert None not in ids
    assert [i for i, n in ids.items() if n > 1] == []
    for path, method, op in ops:
        where = f"{method.upper()} {path}"
        assert op.get("summary"), where
        for media in op.get("requestBody", {}).get("content", {}).values():
            assert "example" in media, f"{where}: request without an example"
        ok = [r for status, r in op["responses"].items() if status.startswith("2")]
        assert ok, where
        assert any("example" in m for r in ok for m in r.get("content", {}).values()), f"{where}: no response example"


def test_every_example_passes_its_own_schema(doc: dict[str, Any]):
    checked = 0
    for path, method, op in _operations(doc):
        where = f"{method.upper()} {path}"
        for media_type, media in op.get("requestBody", {}).get("content", {}).items():
            _check(doc, media["schema"], media["example"], f"{where} request {media_type}")
            checked += 1
        for status, response in op["responses"].items():
            for media_type, media in response.get("content", {}).items():
                if "example" in media:
                    _check(doc, media["schema"], media["example"], f"{where} {status} {media_type}")
                    checked += 1
    assert checked > 40


def test_generated_clients_get_names_bodies_and_media_types(doc: dict[str, Any]):
    paths = doc["paths"]
    ids = {op["operationId"] for _, _, op in _operations(doc)}
    assert {"getToken", "pushRecords", "pullRecords", "pushAcks", "getReportCsv", "getLogHead", "whoami"} <= ids
    token = paths["/oauth/token"]["post"]
    form = token["requestBody"]["content"]["application/x-www-form-urlencoded"]
    assert form["schema"] == {"$ref": "#/components/schemas/TokenForm"}
    assert doc["components"]["schemas"]["TokenForm"]["required"] == ["grant_type"]
    csv = paths["/v1/reports/{report_id}.csv"]["get"]["responses"]["200"]["content"]
    assert list(csv) == ["text/csv"] and csv["text/csv"]["schema"] == {"type": "string"}
    assert paths["/v1/records/{record_id}"]["get"]["parameters"][0]["schema"]["pattern"].startswith("^[0-9a-f]{8}")


def test_oauth_endpoints_document_rfc_6749_errors_the_rest_problems(doc: dict[str, Any]):
    for path in ("/oauth/token", "/oauth/revoke", "/oauth/introspect"):
        responses = doc["paths"][path]["post"]["responses"]
        assert responses["401"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/OAuthError"}
        assert "application/json" in responses["400"]["content"]
    oauth_error = doc["components"]["schemas"]["OAuthError"]
    assert oauth_error["required"] == ["error"]
    pull = doc["paths"]["/v1/records"]["get"]["responses"]
    assert pull["401"]["content"]["application/problem+json"]["schema"] == {"$ref": "#/components/schemas/Problem"}
    assert "application/problem+json" in pull["default"]["content"]


def test_bodies_refuse_members_they_do_not_define(doc: dict[str, Any]):
    schemas = doc["components"]["schemas"]
    for name in ("PushRequest", "AckPushRequest", "SignedRecord", "RecordBody", "Evidence", "Signature", "SignedAck"):
        assert schemas[name].get("additionalProperties") is False, name
    # a member that may be absent but never null has no default of null (openapi-spec-validator refuses it)
    assert "default" not in schemas["Evidence"]["properties"]["digest"]
    assert "default" not in schemas["RecordBody"]["properties"]["confidence"]


def test_request_examples_are_the_conformance_vectors(doc: dict[str, Any]):
    """The examples carry real signatures by the published test keys: an integrator can check against them."""
    vectors = {v["name"]: v for v in json.loads((ROOT / "docs/conformance/signing.json").read_text())["vectors"]}
    log = json.loads((ROOT / "docs/conformance/log.json").read_text())
    push = doc["paths"]["/v1/records"]["post"]
    assert push["requestBody"]["content"]["application/json"]["example"] == {
        "records": [vectors["record-block"]["envelope"]]
    }
    acks = doc["paths"]["/v1/acks"]["post"]
    assert acks["requestBody"]["content"]["application/json"]["example"] == {"acks": [vectors["ack"]["envelope"]]}
    attest = doc["paths"]["/v1/attestations"]["post"]
    assert attest["requestBody"]["content"]["application/json"]["example"] == vectors["attestation"]["envelope"]
    receipt = push["responses"]["200"]["content"]["application/json"]["example"]["results"][0]["receipt"]
    assert receipt == log["receipts"][0]["envelope"]
    head = doc["paths"]["/v1/log/head"]["get"]["responses"]["200"]["content"]["application/json"]["example"]
    assert head == log["tree_heads"][-1]["envelope"]


def test_every_example_object_is_its_conformance_vector():
    from hub import examples

    vectors = {v["name"]: v for v in json.loads((ROOT / "docs/conformance/signing.json").read_text())["vectors"]}
    log = json.loads((ROOT / "docs/conformance/log.json").read_text())
    assert examples.RECORD == vectors["record-block"]["envelope"]
    assert examples.ACK == vectors["ack"]["envelope"]
    assert examples.ATTESTATION == vectors["attestation"]["envelope"]
    receipts = {r["name"]: r["envelope"] for r in log["receipts"]}
    assert examples.RECORD_RECEIPT == receipts["receipt-record-block"]
    assert examples.ACK_RECEIPT == receipts["receipt-ack"]
    assert examples.NUMBER_EVENT == log["leaves"][4]["entry"]
    assert examples.NUMBER_EVENT_RECEIPT == receipts["receipt-number-event"]
    assert examples.TREE_HEAD == log["tree_heads"][4]["envelope"]
    inclusion = next(p for p in log["inclusion"] if (p["index"], p["size"]) == (2, 5))
    assert examples.INCLUSION == {k: inclusion[k] for k in ("index", "size", "path")}
    consistency = next(p for p in log["consistency"] if (p["first"], p["second"]) == (3, 5))
    assert examples.CONSISTENCY == {k: consistency[k] for k in ("first", "second", "path")}
