"""The protocol's wire constants, defined once for the hub and the partner SDK.

Categories, channels, outcomes, limits, the clock-skew allowance and the
patterns every format check uses (PROTOCOL.md sections 1 to 6 and 10). The
hub validates against them and the SDK builds with them, so the two cannot
drift apart. Patterns are meant for ``re.fullmatch`` (or pydantic, which
anchors them): ``[0-9]`` and never ``\\d``, which also accepts other
scripts' digits.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final, Literal, get_args

#: Record categories (section 4).
Category = Literal["scam", "phishing", "impersonation", "account_takeover", "spam", "other"]
CATEGORIES: Final[tuple[str, ...]] = get_args(Category)
#: Channels a block applies to (section 4).
Channel = Literal["voice", "sms", "messaging", "other"]
CHANNELS: Final[tuple[str, ...]] = get_args(Channel)
Action = Literal["block", "unblock"]
ACTIONS: Final[tuple[str, ...]] = get_args(Action)
#: Ack outcomes (section 5), and those allowed for each record action.
Outcome = Literal["blocked", "unblocked", "rejected", "not_applicable"]
OUTCOMES: Final[tuple[str, ...]] = get_args(Outcome)
OUTCOMES_FOR: Final[dict[str, tuple[str, ...]]] = {
    "block": ("blocked", "rejected", "not_applicable"),
    "unblock": ("unblocked", "rejected", "not_applicable"),
}
#: Outcomes whose ack must give a reason.
NEEDS_REASON: Final[tuple[str, ...]] = ("rejected", "not_applicable")
#: Number lifecycle events (section 10).
NumberEvent = Literal["disconnected", "reassigned"]
NUMBER_EVENTS: Final[tuple[str, ...]] = get_args(NumberEvent)
PartnerKind = Literal["operator", "ott", "ministry"]
PARTNER_KINDS: Final[tuple[str, ...]] = get_args(PartnerKind)

#: How far ahead of the hub's clock a signed time may be (``issued_at``, ``as_of``, ``effective_at``).
CLOCK_SKEW: Final = timedelta(minutes=5)
#: The largest request body the hub reads (413 ``too-large`` above it).
MAX_BODY_BYTES: Final = 4 * 1024 * 1024
#: Items in one batch push or question batch.
MAX_BATCH: Final = 1000
#: RFC 8785 numbers are IEEE doubles: larger integers have no canonical form.
MAX_JSON_INT: Final = 2**53 - 1
#: A pull cursor and every other integer in a query string is a signed 64-bit value.
MAX_QUERY_INT: Final = 2**63 - 1
MAX_REASON: Final = 1000
MAX_EVIDENCE_REF: Final = 200
MAX_KID: Final = 100

UUID_PATTERN: Final = r"[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"
PARTNER_ID_PATTERN: Final = r"[a-z0-9][a-z0-9-]{1,62}"
SHA256_PATTERN: Final = r"[0-9a-f]{64}"
SIGNATURE_PATTERN: Final = r"[A-Za-z0-9_-]{86}"
KID_PATTERN: Final = r"[A-Za-z0-9._:-]{1,100}"
#: The k-anonymous look-up's prefix: the first 5 hex characters of SHA-256 of an E.164 number.
HASH_PREFIX_PATTERN: Final = r"[0-9a-f]{5}"


def _full(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.ASCII)


UUID_RE: Final = _full(UUID_PATTERN)
PARTNER_ID_RE: Final = _full(PARTNER_ID_PATTERN)
SHA256_RE: Final = _full(SHA256_PATTERN)
KID_RE: Final = _full(KID_PATTERN)
HASH_PREFIX_RE: Final = _full(HASH_PREFIX_PATTERN)


def anchored(pattern: str) -> str:
    """``^pattern$`` for JSON Schema, whose patterns are not anchored (``$`` is safe there: no newline rule)."""
    return f"^{pattern}$"


def is_partner_id(text: object) -> bool:
    return isinstance(text, str) and PARTNER_ID_RE.fullmatch(text) is not None


def is_uuid(text: object) -> bool:
    return isinstance(text, str) and UUID_RE.fullmatch(text) is not None
