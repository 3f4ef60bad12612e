"""Why a text is not a phone number, in words a person who typed it understands.

The hub and the SDK both refuse numbers that ``phonenumbers`` does not
accept (PROTOCOL section 1). Its own messages ("(1) The string supplied did
not seem to be a phone number.") describe the parser, not the number; the
person fixing row 812 of a complaint export needs to hear that the number
has two digits too few, or that no Indonesian operator uses its prefix.
"""

from __future__ import annotations

import phonenumbers
from phonenumbers import NumberParseException, ValidationResult

_PARSE = {
    NumberParseException.INVALID_COUNTRY_CODE: "has no country code phonenumbers knows: write it as +62... "
    "(or a local number starting with 0)",
    NumberParseException.NOT_A_NUMBER: "is not a phone number: it needs at least 3 digits, and letters or "
    "other signs than + ( ) - . / and spaces are not allowed",
    NumberParseException.TOO_SHORT_AFTER_IDD: "has too few digits after its international prefix",
    NumberParseException.TOO_SHORT_NSN: "has too few digits to be a phone number",
    NumberParseException.TOO_LONG: "has too many digits to be a phone number",
}
_LENGTH = {
    ValidationResult.TOO_SHORT: "has too few digits for a number of that country",
    ValidationResult.TOO_LONG: "has too many digits for a number of that country",
    ValidationResult.INVALID_LENGTH: "has a number of digits that no number of that country has",
    ValidationResult.INVALID_COUNTRY_CODE: "has a country code no country uses",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "has too few digits: a local number without its area code?",
}


def why_not_valid(text: str, region: str | None) -> str:
    """What is wrong with ``text`` as a phone number read with default ``region`` (a phrase after the number).

    For a text that parses but is not a valid number, the length is checked
    first ("has too few digits"), then the prefix and length together.
    """
    try:
        parsed = phonenumbers.parse(text, region)
    except NumberParseException as exc:
        return _PARSE.get(exc.error_type, "is not a phone number")
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    if reason in _LENGTH:
        return _LENGTH[reason]
    country = phonenumbers.region_code_for_number(parsed)
    if country in (None, "ZZ"):
        return "has a country code no country uses"
    return f"is not a valid number in {country}: no operator there has numbers of that prefix and length"
