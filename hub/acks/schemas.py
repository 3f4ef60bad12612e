"""Acks and attestations on the wire (PROTOCOL.md sections 5 and 6)."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from hub import examples
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


EXAMPLE_ACK = examples.ACK

#: Conformance vectors (docs/conformance/log.json): the ack's receipt, signed by the hub's test key.
EXAMPLE_ACK_RECEIPT = examples.ACK_RECEIPT

EXAMPLE_ATTESTATION = examples.ATTESTATION
