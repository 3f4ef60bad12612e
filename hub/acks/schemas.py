"""Acks and attestations on the wire (PROTOCOL.md sections 5 and 6)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from hub.schemas import MAX_JSON_INT, PartnerId, Sha256Hex, Signature, Strict, Timestamp, Uuid
from keys.wire import MAX_REASON, Outcome


class AckBody(Strict):
    id: Uuid
    record_id: Uuid
    partner: PartnerId
    outcome: Outcome
    reason: Annotated[str, Field(min_length=1, max_length=MAX_REASON)] | None
    acted_at: Timestamp


class SignedAck(Strict):
    ack: AckBody
    signature: Signature


class AckPushRequest(BaseModel):
    """1 to 1000 signed acks; each is judged on its own."""

    acks: Annotated[list[SignedAck], Field(min_length=1, max_length=1000)]


class AttestationBody(Strict):
    id: Uuid
    partner: PartnerId
    as_of: Timestamp
    blocked_count: Annotated[int, Field(ge=0, le=MAX_JSON_INT)]
    blocked_set_sha256: Sha256Hex


class SignedAttestation(Strict):
    """SHA-256 over the sorted E.164 numbers the partner blocks, joined by newlines."""

    attestation: AttestationBody
    signature: Signature


class AttestationResult(BaseModel):
    """Whether the partner's set matches the one the hub expects at as_of."""

    id: str
    match: bool
    expected_count: int


EXAMPLE_ACK: dict[str, Any] = {
    "ack": {
        "id": "5b0e4f7a-3c1d-4e2f-8a9b-1c2d3e4f5a6b",
        "record_id": "8d3f6c2e-6b1f-4f43-9a7e-0c8e2f1d9b10",
        "partner": "telkomsel",
        "outcome": "blocked",
        "reason": None,
        "acted_at": "2026-11-28T12:00:00Z",
    },
    "signature": {"alg": "Ed25519", "kid": "telkomsel-2026-01", "value": "<86 base64url characters>"},
}
