"""The E.164 check's fast path for Indonesian numbers answers exactly as phonenumbers.parse does."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hub.problems import Problem
from hub.records.numbers import check_e164, check_e164_general


def _answer(check, raw):
    try:
        return check(raw)
    except Problem as problem:
        return ("problem", problem.as_dict()["detail"])


#: leading digits of Indonesian mobile, fixed, toll-free and premium ranges, so most draws are valid numbers
LEADS = [
    "811",
    "812",
    "813",
    "821",
    "852",
    "814",
    "815",
    "857",
    "817",
    "859",
    "877",
    "881",
    "888",
    "21",
    "22",
    "61",
    "751",
    "800",
    "809",
    "1",
    "0",
    "9",
    "5",
]


@settings(max_examples=3000, deadline=None)
@given(st.sampled_from(LEADS), st.text(alphabet="0123456789", min_size=0, max_size=12))
def test_indonesian_fast_path_matches_the_general_check(lead, tail):
    raw = "+62" + lead + tail
    assert _answer(check_e164.__wrapped__, raw) == _answer(check_e164_general, raw)


def test_the_generated_numbers_are_mostly_valid():
    valid = 0
    for tail in range(0, 10**8, 10**8 // 200):
        valid += not isinstance(_answer(check_e164_general, f"+62812{tail:08d}"), tuple)
    assert valid == 200


@pytest.mark.parametrize(
    "raw",
    [
        "+6281234567890",  # Telkomsel mobile
        "+6281534567890",  # Indosat
        "+622150123456",  # Jakarta fixed line: valid, no carrier
        "+62812",  # too short
        "+620812345678",  # a national prefix after the country code
        "+6288888888888888",  # too long
        "+14155552671",  # not Indonesian: the general path
    ],
)
def test_known_numbers(raw):
    assert _answer(check_e164.__wrapped__, raw) == _answer(check_e164_general, raw)
