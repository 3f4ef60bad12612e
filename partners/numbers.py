"""Phone numbers as partners' systems hold them, turned into the protocol's E.164.

The hub never rewrites a signed field and refuses anything that is not
exactly what phonenumbers formats for a valid number (PROTOCOL.md section
1). Complaint exports and block lists in Indonesia hold local forms
(``0812-3456-7890``, ``62812...``, ``+62 812 ...``), so the SDK normalizes
before it signs, with the same library and default region ``ID``.
"""

from __future__ import annotations

import hashlib

import phonenumbers

from keys.phone import why_not_valid
from partners.errors import PartnerError

DEFAULT_REGION = "ID"


class BadNumber(PartnerError, ValueError):
    """A value that is no valid phone number, even read with region ID."""


def to_e164(raw: str, region: str = DEFAULT_REGION) -> str:
    """The E.164 form of ``raw`` (local or international), or :class:`BadNumber`."""
    text = raw.strip() if isinstance(raw, str) else ""
    if not text:
        raise BadNumber("empty number")
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        raise BadNumber(f"{text!r} {why_not_valid(text, region)}") from None
    if not phonenumbers.is_valid_number(parsed):
        raise BadNumber(f"{text!r} {why_not_valid(text, region)}")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def number_sha256(e164: str) -> str:
    """Lowercase hex SHA-256 of the E.164 text: the hash the k-anonymous range look-up uses."""
    return hashlib.sha256(e164.encode("ascii")).hexdigest()


def blocked_set_sha256(numbers: list[str]) -> tuple[int, str]:
    """Count and SHA-256 of a blocked set as PROTOCOL.md section 6 defines it.

    Sorted, without duplicates, E.164 numbers joined by ``\\n`` (no trailing
    newline). The caller normalizes first: ``0812...`` and ``+62812...`` are
    one number.
    """
    ordered = sorted(set(numbers))
    return len(ordered), hashlib.sha256("\n".join(ordered).encode("ascii")).hexdigest()
