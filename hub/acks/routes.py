"""HTTP endpoints for acks and attestations."""

from __future__ import annotations

from flask import Blueprint, Response, jsonify

from hub.acks import attest as attestations
from hub.acks import ingest
from hub.acks import visibility as _visibility  # noqa: F401  (registers the log's rule for acks)
from hub.acks.schemas import (
    EXAMPLE_ACK,
    EXAMPLE_ACK_RECEIPT,
    EXAMPLE_ATTESTATION,
    AckPushRequest,
    AttestationResult,
    SignedAttestation,
)
from hub.api import query_model, read_json
from hub.auth.protect import current_caller, require
from hub.batch import read_batch
from hub.metrics import count_items
from hub.openapi import operation
from hub.records.schemas import PushQuery, PushResponse

bp = Blueprint("acks", __name__)


@bp.post("/v1/acks")
@require("acks:write")
@operation(
    summary="Acknowledge your assignments with signed outcomes (1 to 1000)",
    tag="acks",
    operation_id="pushAcks",
    query=PushQuery,
    request=AckPushRequest,
    responses={200: PushResponse},
    request_example={"acks": [EXAMPLE_ACK]},
    response_example={
        "results": [{"id": EXAMPLE_ACK["ack"]["id"], "status": "accepted", "receipt": EXAMPLE_ACK_RECEIPT}]
    },
    description="Results exactly as for records. One final outcome per assignment; the assignment's acted_at "
    "(what the SLA counts) is when the hub accepted the ack. dry_run=true judges without storing, as for records.",
)
def push_acks() -> Response:
    items = read_batch(read_json(), "acks")
    dry_run = query_model(PushQuery).dry_run
    results = ingest.push(current_caller(), items, dry_run=dry_run)
    count_items("ack", results, dry_run=dry_run)
    return jsonify({"results": results})


@bp.post("/v1/attestations")
@require("attestations:write")
@operation(
    summary="Attest what you block; the hub compares it with what you acked",
    tag="acks",
    operation_id="postAttestation",
    request=SignedAttestation,
    responses={201: AttestationResult, 200: AttestationResult},
    request_example=EXAMPLE_ATTESTATION,
    response_example={"id": EXAMPLE_ATTESTATION["attestation"]["id"], "match": True, "expected_count": 1},
)
def post_attestation() -> tuple[Response, int]:
    result, status = attestations.attest(current_caller(), read_json())
    return jsonify(result), status
