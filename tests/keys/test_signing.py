"""Signed envelopes (PROTOCOL.md §2): round trip, tampering and shape refusals."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from keys import (
    ALG,
    CanonicalizationError,
    EnvelopeError,
    SignatureInvalid,
    b64u_decode,
    b64u_encode,
    canonicalize,
    generate_private_key,
    sign_object,
    split_envelope,
    verify_bytes,
    verify_object,
)
from keys.errors import KeyFormatError, SigningError

KEY = generate_private_key()
OTHER_KEY = generate_private_key()


def record_body() -> dict[str, Any]:
    return {
        "id": "8d3f6c2e-6b1f-4f43-9a7e-0c8e2f1d9b10",
        "issuer": "kominfo",
        "number": "+6281234567890",
        "action": "block",
        "category": "scam",
        "channels": ["voice", "sms", "messaging"],
        "reason": "Impersonates a bank; 17 verified complaints",
        "evidence": {"complaints": 17, "ref": "ADN-2026-000123"},
        "confidence": 90,
        "observed_at": "2026-11-27T08:00:00Z",
        "issued_at": "2026-11-28T10:00:00Z",
        "expires_at": None,
        "supersedes": None,
    }


def signed() -> dict[str, Any]:
    return sign_object("record", record_body(), KEY, "kominfo-2026-01")


def test_round_trip() -> None:
    envelope = signed()
    assert set(envelope) == {"record", "signature"}
    assert envelope["signature"]["alg"] == ALG == "Ed25519"
    assert envelope["signature"]["kid"] == "kominfo-2026-01"
    assert len(b64u_decode(envelope["signature"]["value"])) == 64
    assert verify_object(envelope, "record", KEY.public_key()) == canonicalize(record_body())


def test_round_trip_through_json_text() -> None:
    envelope = json.loads(json.dumps(signed(), ensure_ascii=False, indent=3))
    verify_object(envelope, "record", KEY.public_key())


def test_split_envelope_returns_body_and_signature() -> None:
    envelope = signed()
    body, signature = split_envelope(envelope, "record")
    assert body is envelope["record"] and signature is envelope["signature"]


def test_wrong_key_fails() -> None:
    with pytest.raises(SignatureInvalid):
        verify_object(signed(), "record", OTHER_KEY.public_key())


def test_wrong_kind_is_an_envelope_error() -> None:
    with pytest.raises(EnvelopeError):
        verify_object(signed(), "ack", KEY.public_key())


def _tamper(value: Any) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        return value + 1
    if isinstance(value, str):
        return value + "x"
    if value is None:
        return "x"
    if isinstance(value, list):
        return value[:-1]
    if isinstance(value, dict):
        return {**value, "complaints": value["complaints"] + 1}
    raise AssertionError(type(value))


@pytest.mark.parametrize("member", sorted(record_body()))
def test_tampering_any_body_member_fails(member: str) -> None:
    envelope = signed()
    envelope["record"][member] = _tamper(envelope["record"][member])
    with pytest.raises(SignatureInvalid):
        verify_object(envelope, "record", KEY.public_key())


@pytest.mark.parametrize("member", sorted(record_body()))
def test_removing_any_body_member_fails(member: str) -> None:
    envelope = signed()
    del envelope["record"][member]
    with pytest.raises(SignatureInvalid):
        verify_object(envelope, "record", KEY.public_key())


def test_adding_a_body_member_fails() -> None:
    envelope = signed()
    envelope["record"]["extra"] = 1
    with pytest.raises(SignatureInvalid):
        verify_object(envelope, "record", KEY.public_key())


def test_tampering_the_signature_value_fails() -> None:
    envelope = signed()
    raw = bytearray(b64u_decode(envelope["signature"]["value"]))
    for position in (0, 31, 32, 63):
        changed = copy.deepcopy(envelope)
        flipped = bytearray(raw)
        flipped[position] ^= 0x01
        changed["signature"]["value"] = b64u_encode(bytes(flipped))
        with pytest.raises(SignatureInvalid):
            verify_object(changed, "record", KEY.public_key())


def test_changing_the_kid_is_not_detected_by_the_signature_but_selects_the_key() -> None:
    # The kid is not signed (PROTOCOL.md §2 signs the body alone); a changed kid
    # makes the verifier pick another key, which then fails.
    envelope = signed()
    envelope["signature"]["kid"] = "kominfo-2026-02"
    verify_object(envelope, "record", KEY.public_key())
    with pytest.raises(SignatureInvalid):
        verify_object(envelope, "record", OTHER_KEY.public_key())


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda e: e.update(extra=1), id="extra-envelope-member"),
        pytest.param(lambda e: e.pop("signature"), id="missing-signature"),
        pytest.param(lambda e: e.pop("record"), id="missing-body"),
        pytest.param(lambda e: e.update(record=[1]), id="body-not-object"),
        pytest.param(lambda e: e.update(signature="abc"), id="signature-not-object"),
        pytest.param(lambda e: e["signature"].pop("kid"), id="missing-kid"),
        pytest.param(lambda e: e["signature"].pop("alg"), id="missing-alg"),
        pytest.param(lambda e: e["signature"].pop("value"), id="missing-value"),
        pytest.param(lambda e: e["signature"].update(typ="x"), id="extra-signature-member"),
        pytest.param(lambda e: e["signature"].update(alg="EdDSA"), id="alg-eddsa"),
        pytest.param(lambda e: e["signature"].update(alg="ed25519"), id="alg-lowercase"),
        pytest.param(lambda e: e["signature"].update(alg=None), id="alg-null"),
        pytest.param(lambda e: e["signature"].update(kid=""), id="kid-empty"),
        pytest.param(lambda e: e["signature"].update(kid=7), id="kid-number"),
        pytest.param(lambda e: e["signature"].update(value=e["signature"]["value"] + "=="), id="padded-value"),
        pytest.param(
            lambda e: e["signature"].update(value=e["signature"]["value"].replace("-", "+").replace("_", "/")),
            id="standard-alphabet",
        ),
        pytest.param(lambda e: e["signature"].update(value=e["signature"]["value"][:-2]), id="short-value"),
        pytest.param(lambda e: e["signature"].update(value=b64u_encode(bytes(65))), id="long-value"),
        pytest.param(lambda e: e["signature"].update(value=" " + e["signature"]["value"]), id="whitespace"),
        pytest.param(lambda e: e["signature"].update(value=None), id="value-null"),
    ],
)
def test_malformed_envelopes_are_refused(mutate: Any) -> None:
    envelope = signed()
    # Make sure the standard-alphabet case really changes something.
    while "-" not in envelope["signature"]["value"] and "_" not in envelope["signature"]["value"]:
        envelope = sign_object("record", {**record_body(), "reason": envelope["signature"]["value"]}, KEY, "k")
    mutate(envelope)
    with pytest.raises(EnvelopeError):
        split_envelope(envelope, "record")
    with pytest.raises(EnvelopeError):
        verify_object(envelope, "record", KEY.public_key())


def test_non_canonical_trailing_bits_are_refused() -> None:
    envelope = signed()
    value = envelope["signature"]["value"]
    # 64 bytes -> 86 characters; the last one carries 4 unused bits.
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    last = alphabet.index(value[-1])
    envelope["signature"]["value"] = value[:-1] + alphabet[last | 0x01]
    if envelope["signature"]["value"] == value:
        envelope["signature"]["value"] = value[:-1] + alphabet[last | 0x02]
    with pytest.raises(EnvelopeError):
        verify_object(envelope, "record", KEY.public_key())


def test_non_object_envelope_is_refused() -> None:
    values: list[Any] = [None, [], "record", 3]
    for value in values:
        with pytest.raises(EnvelopeError):
            split_envelope(value, "record")


def test_canonical_bytes_independent_of_member_order() -> None:
    body = record_body()
    reversed_body = dict(reversed(list(body.items())))
    reversed_body["evidence"] = dict(reversed(list(body["evidence"].items())))
    assert list(reversed_body) != list(body)
    envelope = sign_object("record", body, KEY, "k")
    reordered = {"signature": envelope["signature"], "record": reversed_body}
    assert verify_object(reordered, "record", KEY.public_key()) == canonicalize(body)
    assert sign_object("record", reversed_body, KEY, "k") == sign_object("record", body, KEY, "k")


def test_signing_needs_a_canonical_body() -> None:
    with pytest.raises(CanonicalizationError):
        sign_object("record", {"x": float("nan")}, KEY, "k")


def test_body_without_canonical_form_is_an_envelope_error() -> None:
    envelope = signed()
    envelope["record"]["confidence"] = 2**60
    with pytest.raises(EnvelopeError):
        verify_object(envelope, "record", KEY.public_key())


@pytest.mark.parametrize("kind", ["", "signature", None])
def test_bad_kind_is_refused(kind: Any) -> None:
    with pytest.raises(EnvelopeError):
        sign_object(kind, record_body(), KEY, "k")


def test_bad_kid_and_key_are_refused() -> None:
    with pytest.raises(EnvelopeError):
        sign_object("record", record_body(), KEY, "")
    with pytest.raises(KeyFormatError):
        sign_object("record", record_body(), KEY.public_key(), "k")  # type: ignore[arg-type]


def test_verify_bytes() -> None:
    message = b"tangkal"
    signature = KEY.sign(message)
    verify_bytes(KEY.public_key(), message, signature)
    with pytest.raises(SignatureInvalid):
        verify_bytes(KEY.public_key(), message + b"!", signature)
    with pytest.raises(SignatureInvalid):
        verify_bytes(KEY.public_key(), message, signature[:63])
    with pytest.raises(SignatureInvalid):
        verify_bytes(KEY.public_key(), message, signature + b"\x00")


def test_every_error_is_a_signing_error() -> None:
    with pytest.raises(SigningError):
        verify_object({}, "record", KEY.public_key())


@pytest.mark.parametrize(
    "text",
    ["AA==", "A", "AB", "+/8", "AA\n", "ÀA", "AA AA"],
)
def test_b64u_decode_is_strict(text: str) -> None:
    with pytest.raises(KeyFormatError):
        b64u_decode(text)


def test_b64u_round_trip() -> None:
    for length in range(0, 70):
        data = bytes(range(length))
        text = b64u_encode(data)
        assert "=" not in text
        assert b64u_decode(text) == data
