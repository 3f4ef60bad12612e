"""Field types shared by every signed object's pydantic model.

Models are strict (no coercion: ``"17"`` is not 17, ``true`` is not 1) and
forbid unknown members at every level, as PROTOCOL.md section 1 requires.
Timestamps are validated but kept as the partner's own strings: the hub
never rewrites a signed field.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from hub.problems import Problem
from keys.timefmt import TimestampError, parse_ts
from keys.wire import (
    CLOCK_SKEW,
    MAX_JSON_INT,
    MAX_KID,
    PARTNER_ID_PATTERN,
    SHA256_PATTERN,
    SIGNATURE_PATTERN,
    UUID_PATTERN,
    anchored,
)

__all__ = ["MAX_JSON_INT", "PartnerId", "Sha256Hex", "Signature", "Strict", "Timestamp", "Uuid"]


def _check_ts(value: str) -> str:
    try:
        parse_ts(value)
    except TimestampError as exc:
        raise ValueError(str(exc)) from None
    return value


Uuid = Annotated[str, Field(pattern=anchored(UUID_PATTERN), description="lowercase RFC 9562 UUID")]
PartnerId = Annotated[str, Field(pattern=anchored(PARTNER_ID_PATTERN))]
Sha256Hex = Annotated[str, Field(pattern=anchored(SHA256_PATTERN), description="lowercase hex SHA-256")]
Timestamp = Annotated[
    str,
    AfterValidator(_check_ts),
    Field(description="RFC 3339 UTC with Z, at most milliseconds", examples=["2026-11-28T10:00:00Z"]),
]


class Strict(BaseModel):
    model_config = ConfigDict(strict=True, extra="forbid")


class Signature(Strict):
    """Ed25519 over the RFC 8785 bytes of the sibling member."""

    alg: Literal["Ed25519"]
    kid: Annotated[str, Field(min_length=1, max_length=MAX_KID)]
    value: Annotated[str, Field(pattern=anchored(SIGNATURE_PATTERN), description="base64url, no padding, 64 bytes")]


def check_not_ahead(member: str, text: str, moment: datetime, now: datetime) -> None:
    """A signed time may not be more than the clock-skew allowance ahead of the hub's clock."""
    if moment - now > CLOCK_SKEW:
        minutes = int(CLOCK_SKEW.total_seconds() // 60)
        raise Problem("invalid-record", f"{member} {text} is more than {minutes} minutes ahead of the hub's clock.")
