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
from hub.records.schemas import PushResponse

bp = Blueprint("acks", __name__)


@bp.post("/v1/acks")
@require("acks:write")
@operation(
    summary="Acknowledge your assignments with signed outcomes (1 to 1000)",
    tag="acks",
    request=AckPushRequest,
    responses={200: PushResponse},
    request_example={"acks": [EXAMPLE_ACK]},
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
)
def post_attestation() -> tuple[Response, int]:
    result, status = attestations.attest(current_caller(), read_json())
    return jsonify(result), status
