"""Phone numbers: the strict E.164 check and the home carrier.

The hub never rewrites a signed field, so a number must already be exactly
what phonenumbers formats for a valid number; when it is not, the error
names the form the partner probably meant (parsed with default region ID).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache

import phonenumbers
from phonenumbers import PhoneNumber, PhoneNumberType
from phonenumbers import carrier as pn_carrier

from hub.problems import Problem
from keys.phone import why_not_valid

DEFAULT_REGION = "ID"


@dataclass(frozen=True)
class NumberInfo:
    e164: str
    region: str | None
    carrier: str | None

    @property
    def domestic(self) -> bool:
        return self.region == DEFAULT_REGION

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.e164.encode("ascii")).hexdigest()


def _suggestion(raw: str) -> str | None:
    try:
        parsed = phonenumbers.parse(raw, DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


#: Indonesian numbers in E.164 with no leading zero after the country code: what
#: phonenumbers.parse makes of them is exactly (62, int(rest)) (no national prefix
#: to strip, one region), so the parse, three fifths of the check, can be skipped.
_DOMESTIC = re.compile(r"\+62[1-9][0-9]{4,14}")
_MOBILE_TYPES = frozenset({PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE_OR_MOBILE, PhoneNumberType.PAGER})


@lru_cache(maxsize=65536)
def check_e164(raw: str) -> NumberInfo:
    """The number's routing facts, or an ``invalid-number`` problem.

    Indonesian numbers take a fast path (``_DOMESTIC``; tests/test_numbers.py
    checks it answers exactly as the general one); a valid number is checked
    once, and the suggestion (a second parse, with region ID) is only worked
    out for a number that fails.
    """
    if isinstance(raw, str) and _DOMESTIC.fullmatch(raw):
        parsed = PhoneNumber(country_code=62, national_number=int(raw[3:]))
        kind = phonenumbers.number_type(parsed)  # UNKNOWN exactly when is_valid_number is False
        if kind != PhoneNumberType.UNKNOWN:
            name = pn_carrier.name_for_valid_number(parsed, "en") if kind in _MOBILE_TYPES else ""
            return NumberInfo(e164=raw, region=DEFAULT_REGION, carrier=name or None)
    return check_e164_general(raw)


def check_e164_general(raw: str) -> NumberInfo:
    """``check_e164`` for any number, through phonenumbers.parse."""
    if isinstance(raw, str) and raw.startswith("+"):
        try:
            parsed = phonenumbers.parse(raw, None)
        except phonenumbers.NumberParseException:
            raise _invalid(raw, f"{raw!r} {why_not_valid(raw, None)}.") from None
        if not phonenumbers.is_valid_number(parsed):
            raise _invalid(raw, f"{raw!r} {why_not_valid(raw, None)}.")
        e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
        if e164 != raw:
            raise Problem(
                "invalid-number",
                f"{raw!r} is not exactly E.164; the hub never rewrites a signed field. Did you mean {e164}?",
                suggestion=e164,
            )
        name = pn_carrier.name_for_number(parsed, "en") or None
        return NumberInfo(e164=e164, region=phonenumbers.region_code_for_number(parsed), carrier=name)
    raise _invalid(raw, f"{raw!r} is not in E.164 form (+<country><number>).")


def _invalid(raw: object, message: str) -> Problem:
    suggestion = _suggestion(raw) if isinstance(raw, str) else None
    hint = f" Did you mean {suggestion}?" if suggestion and suggestion != raw else ""
    return Problem("invalid-number", message + hint, suggestion=suggestion)
