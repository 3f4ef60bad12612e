"""Records on the wire (PROTOCOL.md section 4), as pydantic models.

These validate pushes and also generate the OpenAPI schemas, so the document
cannot drift from what the hub enforces.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from hub import examples
from hub.openapi import ProblemModel
from hub.schemas import MAX_JSON_INT, PartnerId, Sha256Hex, Signature, Strict, Timestamp, Uuid
from keys.wire import CHANNELS, MAX_EVIDENCE_REF, MAX_QUERY_INT, MAX_REASON, Action, Category, Channel


class Evidence(Strict):
    """References and digests only: never a complainant's personal data."""

    complaints: Annotated[int, Field(ge=0, le=MAX_JSON_INT)]
    digest: Sha256Hex = Field(default=None)  # type: ignore[assignment]
    ref: Annotated[str, Field(max_length=MAX_EVIDENCE_REF)] = Field(default=None)  # type: ignore[assignment]

    @field_validator("digest", "ref", mode="before")
    @classmethod
    def _absent_not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("omit the member instead of sending null")
        return value


class RecordBody(Strict):
    id: Uuid
    issuer: PartnerId
    number: Annotated[str, Field(min_length=1, max_length=32, examples=["+6281234567890"])]
    action: Action
    category: Category
    channels: Annotated[list[Channel], Field(min_length=1, max_length=len(CHANNELS))]
    reason: Annotated[str, Field(min_length=1, max_length=MAX_REASON)]
    evidence: Evidence
    confidence: Annotated[int, Field(ge=0, le=100)] = Field(default=None)  # type: ignore[assignment]
    observed_at: Timestamp
    issued_at: Timestamp
    expires_at: Timestamp | None = None
    supersedes: Uuid | None = None

    @field_validator("channels")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        if len(set(value)) != len(value):
            raise ValueError("channels hold no duplicates")
        return value

    @field_validator("confidence", mode="before")
    @classmethod
    def _confidence_not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("omit confidence instead of sending null")
        return value

    @field_validator("reason")
    @classmethod
    def _reason_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("reason must not be blank")
        return value


class SignedRecord(Strict):
    record: RecordBody
    signature: Signature


class PushRequest(BaseModel):
    """1 to 1000 signed records; each is judged on its own.

    (The outer shape is checked by hub.batch; this model documents it.)
    """

    model_config = ConfigDict(extra="forbid")

    records: Annotated[list[SignedRecord], Field(min_length=1, max_length=1000)]


class PushQuery(BaseModel):
    """The query of every batch push (PROTOCOL 1.1 section 4)."""

    dry_run: bool = Field(
        False,
        description="true: judge every item exactly as a real push would (signature, rules, duplicates against what "
        "is stored) but store, log and sign nothing; results are valid, duplicate (with the original receipt) or "
        "rejected",
    )


class Receipt(BaseModel):
    """What the hub received and where it logged it; sha256 is over the JCS bytes of the signed member."""

    object_id: str
    kind: Literal["record", "ack", "number_event"]
    sha256: Sha256Hex
    seq: int = Field(ge=1)
    log_index: int = Field(ge=0)
    received_at: str
    hub: str


class SignedReceipt(BaseModel):
    """A receipt, signed by the hub (verify with GET /.well-known/jwks.json)."""

    receipt: Receipt
    signature: Signature


class ItemResult(BaseModel):
    """One item's answer: accepted and duplicate carry a receipt, rejected a problem; valid (dry run) neither."""

    id: str | None
    status: Literal["accepted", "duplicate", "rejected", "valid"]
    receipt: SignedReceipt | None = None
    error: ProblemModel | None = None


class PushResponse(BaseModel):
    """One result per item, in order."""

    results: list[ItemResult]


class AssignmentView(BaseModel):
    """The caller's own assignment of the record."""

    status: Literal["pending", "delivered", "acted"]
    assigned_at: str
    delivered_at: str | None
    acted_at: str | None


class PullItem(BaseModel):
    """A record as accepted, with its receipt and the caller's assignment (null if none)."""

    seq: int
    record: RecordBody
    signature: Signature
    receipt: SignedReceipt
    assignment: AssignmentView | None


class PullResponse(BaseModel):
    """Records with seq > after, ascending; continue from next_after."""

    items: list[PullItem]
    next_after: int
    has_more: bool


class PullQuery(BaseModel):
    after: Annotated[int, Field(ge=0, le=MAX_QUERY_INT, description="the last seq already seen (0 to start)")] = 0
    limit: Annotated[int, Field(ge=1, le=1000, description="items per page")] = 100


class AssignmentDetail(AssignmentView):
    """A partner's assignment of the record, with its signed ack (or null)."""

    partner: str
    ack: dict[str, Any] | None


class RecordDetail(PullItem):
    """A record as its reader may see it; issuer and ministry also see assignments."""

    assignments: list[AssignmentDetail] | None = None


class NumberView(BaseModel):
    """A number's state, from the index: blocked while any block is in force.

    ``records``: the caller's visible records of the number, newest first (by
    seq), at most 100; ``record_count``: how many it may see in all;
    ``reassigned_at``: when the number was last given to a new subscriber,
    or null.
    """

    number: str
    carrier: str | None
    blocked: bool
    reassigned_at: str | None = Field(description="(1.1) effective_at of the number's latest reassigned event, or null")
    record_count: Annotated[int, Field(ge=0, description="(1.1) how many records the caller may see in all")]
    records: Annotated[list[PullItem], Field(max_length=100, description="newest first (by seq), at most 100")]


class HashRange(BaseModel):
    """k-anonymous check: the rest of the hashes of numbers blocked now."""

    prefix: str
    suffixes: list[str]


#: The examples are conformance vectors (hub.examples, docs/conformance/).
EXAMPLE_RECORD = examples.RECORD

EXAMPLE_PUSH_REQUEST: dict[str, Any] = {"records": [EXAMPLE_RECORD]}

EXAMPLE_RECEIPT = examples.RECORD_RECEIPT

EXAMPLE_PUSH_RESPONSE: dict[str, Any] = {
    "results": [
        {"id": "8d3f6c2e-6b1f-4f43-9a7e-0c8e2f1d9b10", "status": "accepted", "receipt": EXAMPLE_RECEIPT},
        {
            "id": "0b6f0c6e-1d7e-4a43-8a7e-3c8e2f1d9b11",
            "status": "rejected",
            "error": {
                "type": "urn:tangkal:problem:invalid-number",
                "title": "Invalid phone number",
                "status": 400,
                "detail": "'081234567890' is not in E.164 form (+<country><number>). Did you mean +6281234567890?",
                "suggestion": "+6281234567890",
            },
        },
    ]
}

EXAMPLE_ITEM: dict[str, Any] = {
    "seq": 1,
    "record": EXAMPLE_RECORD["record"],
    "signature": EXAMPLE_RECORD["signature"],
    "receipt": EXAMPLE_RECEIPT,
    "assignment": {
        "status": "delivered",
        "assigned_at": "2026-11-28T10:00:01.250Z",
        "delivered_at": "2026-11-28T10:02:00Z",
        "acted_at": None,
    },
}

EXAMPLE_RECORD_DETAIL: dict[str, Any] = {
    **EXAMPLE_ITEM,
    "assignment": None,
    "assignments": [
        {
            "partner": "telkomsel",
            "status": "acted",
            "assigned_at": "2026-11-28T10:00:01.250Z",
            "delivered_at": "2026-11-28T10:02:00Z",
            "acted_at": "2026-11-28T12:00:03.100Z",
            "ack": examples.ACK,
        }
    ],
}

EXAMPLE_PULL_RESPONSE: dict[str, Any] = {"items": [EXAMPLE_ITEM], "next_after": 1, "has_more": False}

EXAMPLE_NUMBER: dict[str, Any] = {
    "number": "+6281234567890",
    "carrier": "Telkomsel",
    "blocked": True,
    "reassigned_at": None,
    "record_count": 1,
    "records": [EXAMPLE_ITEM],
}

EXAMPLE_HASH_RANGE: dict[str, Any] = {
    "prefix": "3f2a9",
    "suffixes": ["0c4b1e8f5a6d7c2b9e0f1a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e"],
}
