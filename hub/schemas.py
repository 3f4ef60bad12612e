"""Field types shared by every signed object's pydantic model.

Models are strict (no coercion: ``"17"`` is not 17, ``true`` is not 1) and
forbid unknown members at every level, as PROTOCOL.md section 1 requires.
Timestamps are validated but kept as the partner's own strings: the hub
never rewrites a signed field.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from keys.timefmt import TimestampError, parse_ts

UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$"
PARTNER_ID_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"
B64URL_SIG_PATTERN = r"^[A-Za-z0-9_-]{86}$"
#: RFC 8785 numbers are IEEE doubles: larger integers have no canonical form.
MAX_JSON_INT = 2**53 - 1


def _check_ts(value: str) -> str:
    try:
        parse_ts(value)
    except TimestampError as exc:
        raise ValueError(str(exc)) from None
    return value


Uuid = Annotated[str, Field(pattern=UUID_PATTERN, description="lowercase RFC 9562 UUID")]
PartnerId = Annotated[str, Field(pattern=PARTNER_ID_PATTERN)]
Sha256Hex = Annotated[str, Field(pattern=SHA256_PATTERN, description="lowercase hex SHA-256")]
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
    kid: Annotated[str, Field(min_length=1, max_length=100)]
    value: Annotated[str, Field(pattern=B64URL_SIG_PATTERN, description="base64url, no padding, 64 bytes")]
