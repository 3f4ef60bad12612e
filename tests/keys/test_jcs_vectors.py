"""RFC 8785 test vectors (cyberphone/json-canonicalization testdata) through keys.jcs.

The vectors live in the project's shared folder beside the repository; a
missing folder is a failure, not a skip, so CI cannot go green without them.
"""

from __future__ import annotations

import json
import math
import os
from pathlib import Path

import pytest

from keys import CanonicalizationError, canonicalize, sha256_hex

PREFIX = "json-canonicalization__"


def vectors_dir() -> Path:
    override = os.environ.get("TANGKAL_VECTORS")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[3] / "shared" / "vectors"


def case_names() -> list[str]:
    directory = vectors_dir()
    if not directory.is_dir():
        return []
    return sorted(p.name[len(PREFIX + "input_") : -len(".json")] for p in directory.glob(PREFIX + "input_*.json"))


CASES = case_names()
MISSING = (
    f"JCS vectors not found in {vectors_dir()} (expected {PREFIX}input_*.json); "
    "set TANGKAL_VECTORS to the shared/vectors folder"
)


def test_vectors_are_present() -> None:
    if not CASES:
        pytest.fail(MISSING)
    assert len(CASES) >= 6


@pytest.mark.parametrize("case", CASES or [pytest.param(None, id="vectors-missing")])
def test_vector(case: str | None) -> None:
    if case is None:
        pytest.fail(MISSING)
    directory = vectors_dir()
    source = json.loads((directory / f"{PREFIX}input_{case}.json").read_bytes())
    expected = (directory / f"{PREFIX}output_{case}.json").read_bytes()
    expected_hex = (directory / f"{PREFIX}outhex_{case}.txt").read_text(encoding="ascii").split()
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
