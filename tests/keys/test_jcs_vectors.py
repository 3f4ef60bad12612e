"""RFC 8785 test vectors (cyberphone/json-canonicalization testdata) through keys.jcs.

The vectors are copied into the repository (tests/vectors, origin and licence
in tests/vectors/SOURCES). The cases are listed here rather than discovered,
so a missing or renamed file fails its case instead of quietly shrinking the run.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from keys import CanonicalizationError, canonicalize, sha256_hex

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
PREFIX = "json-canonicalization__"
CASES = ["arrays", "french", "structures", "unicode", "values", "weird"]


def test_every_upstream_case_is_listed() -> None:
    found = sorted(p.name[len(PREFIX + "input_") : -len(".json")] for p in VECTORS.glob(PREFIX + "input_*.json"))
    assert found == CASES, f"JCS vectors in {VECTORS} do not match the listed cases"


@pytest.mark.parametrize("case", CASES)
def test_vector(case: str) -> None:
    source = json.loads((VECTORS / f"{PREFIX}input_{case}.json").read_bytes())
    expected = (VECTORS / f"{PREFIX}output_{case}.json").read_bytes()
    expected_hex = (VECTORS / f"{PREFIX}outhex_{case}.txt").read_text(encoding="ascii").split()
    result = canonicalize(source)
    assert result == expected
    assert result.hex() == "".join(expected_hex)
    # The canonical form is a fixed point: parsing and canonicalizing again changes nothing.
    assert canonicalize(json.loads(result)) == result


def test_member_order_does_not_matter() -> None:
    assert canonicalize({"b": 1, "a": [1, 2]}) == canonicalize({"a": [1, 2], "b": 1}) == b'{"a":[1,2],"b":1}'


@pytest.mark.parametrize(
    "value",
    [math.nan, math.inf, 2**53, -(2**53), {1: "non-string key"}, {"\ud800": 1}, "\udfff", b"bytes", {1, 2}],
    ids=["nan", "inf", "big-int", "small-int", "int-key", "surrogate-key", "surrogate", "bytes", "set"],
)
def test_values_without_canonical_form_are_refused(value: object) -> None:
    with pytest.raises(CanonicalizationError):
        canonicalize(value)


def test_sha256_hex() -> None:
    assert sha256_hex(b"") == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
