"""Number events and reassignment questions on the wire (PROTOCOL.md section 10), as pydantic models.

They validate pushes and generate the OpenAPI schemas, so the document
cannot drift from what the hub enforces.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from hub import examples
from hub.openapi import ProblemModel
from hub.records.schemas import PushResponse
from hub.schemas import PartnerId, Signature, Strict, Timestamp, Uuid
from keys.wire import MAX_BATCH, NumberEvent

__all__ = ["PushResponse"]


class NumberEventBody(Strict):
    """The home operator's word that a number's subscription ended or that it has a new subscriber."""

    id: Uuid
    operator: PartnerId
    number: Annotated[str, Field(min_length=1, max_length=32, examples=["+6281234567890"])]
    event: NumberEvent
    effective_at: Timestamp


class SignedNumberEvent(Strict):
    number_event: NumberEventBody
    signature: Signature


class NumberEventsRequest(BaseModel):
    """1 to 1000 signed number events; each is judged on its own.

    (The outer shape is checked by hub.batch; this model documents it.)
    """

    model_config = ConfigDict(extra="forbid")

    number_events: Annotated[list[SignedNumberEvent], Field(min_length=1, max_length=MAX_BATCH)]


class ReassignedQuery(BaseModel):
    since: str = Field(
        description="RFC 3339 UTC timestamp (2026-12-01T00:00:00Z) or a date (2026-12-01: 00:00 Asia/Jakarta)"
    )


class ReassignedAnswer(BaseModel):
    """yes: a reassigned event took effect at or after since (reassigned_at the latest); no: none did;
    no_data: since is before the hub began recording lifecycle events."""

    number: str
    since: str
    answer: Literal["yes", "no", "no_data"]
    reassigned_at: str | None


class ReassignedQuestion(BaseModel):
    model_config = ConfigDict(extra="forbid")

    number: str = Field(examples=["+6281234567890"])
    since: str = Field(examples=["2026-06-01"])


class ReassignedRequest(BaseModel):
    """1 to 1000 questions."""

    model_config = ConfigDict(extra="forbid")

    queries: Annotated[list[ReassignedQuestion], Field(min_length=1, max_length=MAX_BATCH)]


class ReassignedError(BaseModel):
    """A question the hub could not answer (a bad number or since); it spoils nothing else."""

    number: Any
    error: ProblemModel


class ReassignedBatchResponse(BaseModel):
    """One answer per question, in order."""

    answers: list[ReassignedAnswer | ReassignedError]


EXAMPLE_PUSH_REQUEST: dict[str, Any] = {"number_events": [examples.NUMBER_EVENT]}
EXAMPLE_PUSH_RESPONSE: dict[str, Any] = {
    "results": [
        {
            "id": examples.NUMBER_EVENT["number_event"]["id"],
            "status": "accepted",
            "receipt": examples.NUMBER_EVENT_RECEIPT,
        }
    ]
}
EXAMPLE_ANSWER: dict[str, Any] = {
    "number": "+6285612345678",
    "since": "2026-05-31T17:00:00Z",
    "answer": "yes",
    "reassigned_at": "2026-12-01T00:00:00Z",
}
EXAMPLE_BATCH_REQUEST: dict[str, Any] = {
    "queries": [
        {"number": "+6285612345678", "since": "2026-06-01"},
        {"number": "+6281234567890", "since": "2026-11-01T00:00:00Z"},
        {"number": "0812345", "since": "2026-06-01"},
    ]
}
EXAMPLE_BATCH_RESPONSE: dict[str, Any] = {
    "answers": [
        EXAMPLE_ANSWER,
        {"number": "+6281234567890", "since": "2026-11-01T00:00:00Z", "answer": "no", "reassigned_at": None},
        {
            "number": "0812345",
            "error": {
                "type": "urn:tangkal:problem:invalid-number",
                "title": "Invalid phone number",
                "status": 400,
                "detail": "'0812345' is not in E.164 form (+<country><number>).",
                "suggestion": None,
            },
        },
    ]
}
