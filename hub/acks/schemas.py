"""Acks and attestations on the wire (PROTOCOL.md sections 5 and 6)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

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

    model_config = ConfigDict(extra="forbid")

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
    "signature": {
        "alg": "Ed25519",
        "kid": "telkomsel-2026-01",
        "value": "PUzWVMjqL-RDy93HWsJHpxHDoG9T1eeQ53-ZH2cX5_GJaC8231Unv1S0GSMnpxcCQ-PYflJjFbE_kgpjFQpdDA",
    },
}

#: Conformance vectors (docs/conformance/log.json): the ack's receipt, signed by the hub's test key.
EXAMPLE_ACK_RECEIPT: dict[str, Any] = {
    "receipt": {
        "object_id": "5b0e4f7a-3c1d-4e2f-8a9b-1c2d3e4f5a6b",
        "kind": "ack",
        "sha256": "52417b66cf556c4524efa766f7f903ac81b75aace5fed705156b979d2cb57800",
        "seq": 3,
        "log_index": 2,
        "received_at": "2026-11-28T12:00:03.100Z",
        "hub": "tangkal",
    },
    "signature": {
        "alg": "Ed25519",
        "kid": "tangkal-20261128-9a8b7c",
        "value": "yPs-NTl8l-rQKo7LPcPlPHsSL7gv7MwUe4VBd4t3CQNMcP9U-DQUVaKeOBtqM7FHblkJMeLWLfqay88vALmwDQ",
    },
}

EXAMPLE_ATTESTATION: dict[str, Any] = {
    "attestation": {
        "id": "2f1e0d9c-8b7a-4695-a4b3-c2d1e0f9a8b7",
        "partner": "telkomsel",
        "as_of": "2026-11-28T13:00:00Z",
        "blocked_count": 1,
        "blocked_set_sha256": "62397bbd6a8c9ae53bc914a6017300eb6b13af5be20e4cc9ad2dc3d61ecb24cd",
    },
    "signature": {
        "alg": "Ed25519",
        "kid": "telkomsel-2026-01",
        "value": "egF2o7dUfemTwyDOMSklYRd9cm0ygiFryuOYtF2UAiVZlSjCl8ouleHYaIAG3ry-d_Uh0n5qj2XK8Iq1Jg-0Dw",
    },
}
