"""Wycheproof Ed25519 verification vectors through keys.verify_bytes.

Each group's public key is also loaded through the JWK and PEM forms the file
carries, so the key loaders are held to the same vectors. The file is copied
into the repository (tests/vectors, origin and licence in tests/vectors/SOURCES);
a missing file fails these tests, it never skips them.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from keys import SignatureInvalid, jwk_to_public_key, load_public_key, raw_public_bytes, verify_bytes

FILENAME = "wycheproof__ed25519_test.json"
MUST_REJECT_FLAGS = frozenset(
    {
        "SignatureMalleability",
        "InvalidEncoding",
        "SignatureWithGarbage",
        "TruncatedSignature",
        "CompressedSignature",
        "InvalidSignature",
    }
)


VECTORS = Path(__file__).resolve().parents[1] / "vectors" / FILENAME


def load_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(VECTORS.read_text(encoding="utf-8"))
    return document


def load_cases() -> list[Any]:
    if not VECTORS.is_file():
        # Collected all the same, so the run reports a failure rather than an empty pass.
        return [pytest.param(None, None, id="vectors-missing")]
    document = load_document()
    cases = []
    for group in document["testGroups"]:
        for test in group["tests"]:
            cases.append(pytest.param(group, test, id=f"tcId-{test['tcId']}"))
    return cases


CASES = load_cases()
MISSING = f"Wycheproof vectors not found at {VECTORS} (see tests/vectors/SOURCES for the upstream file)"


def test_enough_cases_run() -> None:
    assert len(CASES) > 100


@pytest.mark.parametrize("group,test", CASES)
def test_vector(group: dict[str, Any] | None, test: dict[str, Any] | None) -> None:
    if group is None or test is None:
        pytest.fail(MISSING)
    public_key = Ed25519PublicKey.from_public_bytes(bytes.fromhex(group["publicKey"]["pk"]))
    message = bytes.fromhex(test["msg"])
    signature = bytes.fromhex(test["sig"])
    result = test["result"]
    if result == "acceptable":
        # None in this file today. Should one appear, its flags decide: a
        # malleable or oddly encoded signature must still be refused (we are
        # a strict verifier); anything else may go either way, but only by
        # verifying or by raising SignatureInvalid.
        if set(test["flags"]) & MUST_REJECT_FLAGS:
            result = "invalid"
        else:
            with contextlib.suppress(SignatureInvalid):
                verify_bytes(public_key, message, signature)
            return
    if result == "valid":
        verify_bytes(public_key, message, signature)
    else:
        assert result == "invalid"
        with pytest.raises(SignatureInvalid):
            verify_bytes(public_key, message, signature)


def test_group_keys_load_from_jwk_and_pem() -> None:
    for group in load_document()["testGroups"]:
        raw = bytes.fromhex(group["publicKey"]["pk"])
        assert raw_public_bytes(jwk_to_public_key(group["publicKeyJwk"])) == raw
        assert raw_public_bytes(load_public_key(group["publicKeyPem"])) == raw
