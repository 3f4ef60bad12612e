"""The wire shapes of ``GET /v1/audit`` (PROTOCOL 1.1 section 9), for validation and /openapi.json."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, Field

from hub.schemas import PartnerId, Timestamp
from keys.wire import MAX_QUERY_INT

from .service import MAX_PAGE


class AuditQuery(BaseModel):
    partner: PartnerId | None = Field(default=None, description="only reads by this partner")
    since: Timestamp | None = Field(default=None, description="only reads at or after this time")
    number: Annotated[str, Field(max_length=20)] | None = Field(
        default=None, description="only reads that involved this E.164 number"
    )
    after: Annotated[int, Field(ge=0, le=MAX_QUERY_INT, description="the last id already seen (0 to start)")] = 0
    limit: Annotated[int, Field(ge=1, le=MAX_PAGE, description="rows per page")] = 100


class AuditItem(BaseModel):
    """One audited read: who, when, which endpoint, the numbers and ids involved, how many items it answered."""

    id: int
    at: str
    partner: str
    endpoint: str = Field(description="method and route template, e.g. GET /v1/numbers/{number}")
    numbers: list[str] = Field(description="E.164 numbers the answer involved (never for a hash-range query)")
    ids: list[str] = Field(
        description="record or report ids; a log read's index range [start,end); a hash-range query's prefix"
    )
    count: int = Field(description="items in the answer")


class AuditPage(BaseModel):
    """Audit rows oldest first; continue from ``next_after`` (the last id, or ``after`` when empty)."""

    items: list[AuditItem]
    next_after: int


EXAMPLE_AUDIT_PAGE: dict[str, Any] = {
    "items": [
        {
            "id": 41,
            "at": "2026-11-28T10:00:01.250Z",
            "partner": "gojek",
            "endpoint": "GET /v1/numbers/{number}",
            "numbers": ["+6281234567890"],
            "ids": ["8d3f6c2e-6b1f-4f43-9a7e-0c8e2f1d9b10"],
            "count": 1,
        },
        {
            "id": 42,
            "at": "2026-11-28T10:00:02Z",
            "partner": "gojek",
            "endpoint": "GET /v1/numbers/hash-range/{prefix}",
            "numbers": [],
            "ids": ["3f2a9"],
            "count": 2,
        },
    ],
    "next_after": 42,
}
