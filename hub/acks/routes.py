"""HTTP endpoints for acks and attestations."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from hub.acks import attest as attestations
from hub.acks import ingest
from hub.acks.schemas import EXAMPLE_ACK, AckPushRequest, AttestationResult, SignedAttestation
from hub.api import read_json
from hub.auth.protect import current_caller, require
from hub.batch import read_batch
from hub.metrics import count_items
from hub.openapi import operation
from hub.records.schemas import EXAMPLE_RECEIPT, PushResponse

bp = Blueprint("acks", __name__)


@bp.post("/v1/acks")
@require("acks:write")
@operation(
    summary="Acknowledge your assignments with signed outcomes (1 to 1000)",
    tag="acks",
    request=AckPushRequest,
    responses={200: PushResponse},
    request_example={"acks": [EXAMPLE_ACK]},
    response_example={
        "results": [
            {
                "id": EXAMPLE_ACK["ack"]["id"],
                "status": "accepted",
                "receipt": {
                    **EXAMPLE_RECEIPT,
                    "receipt": {
                        **EXAMPLE_RECEIPT["receipt"],
                        "kind": "ack",
                        "object_id": EXAMPLE_ACK["ack"]["id"],
                        "seq": 2,
                        "log_index": 1,
                    },
                },
            }
        ]
    },
    description="Results exactly as for records. One final outcome per assignment; the assignment's acted_at "
    "(what the SLA counts) is when the hub accepted the ack.",
)
def push_acks() -> Response:
    items = read_batch(read_json(), "acks")
    results = ingest.push(current_caller(), items)
    count_items("ack", results)
    return jsonify({"results": results})


@bp.post("/v1/attestations")
@require("attestations:write")
@operation(
    summary="Attest what you block; the hub compares it with what you acked",
    tag="acks",
    request=SignedAttestation,
    responses={201: AttestationResult, 200: AttestationResult},
    request_example={
        "attestation": {
            "id": "2f1e0d9c-8b7a-4695-a4b3-c2d1e0f9a8b7",
            "partner": "telkomsel",
            "as_of": "2026-11-28T00:00:00Z",
            "blocked_count": 1204,
            "blocked_set_sha256": "9b71d224bd62f3785d96d46ad3ea3d73319bfbc2890caadae2dff72519673ca7",
        },
        "signature": {"alg": "Ed25519", "kid": "telkomsel-2026-01", "value": "<86 base64url characters>"},
    },
    response_example={"id": "2f1e0d9c-8b7a-4695-a4b3-c2d1e0f9a8b7", "match": True, "expected_count": 1204},
)
def post_attestation() -> tuple[Response, int]:
    result, status = attestations.attest(current_caller(), read_json())
    return jsonify(result), status
