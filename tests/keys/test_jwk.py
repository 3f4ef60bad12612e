"""JWK / JWKS / PEM public keys (RFC 7517, RFC 8037)."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ec import SECP256R1
from cryptography.hazmat.primitives.asymmetric.ec import generate_private_key as ec_key

from keys import (
    KeyFormatError,
    UnknownKid,
    b64u_encode,
    generate_private_key,
    jwk_to_public_key,
    jwks,
    key_from_jwks,
    load_public_key,
    private_key_to_pem,
    public_jwk,
    public_key_pem,
    raw_public_bytes,
)

KEY = generate_private_key()
PUBLIC = KEY.public_key()


def test_public_jwk_members() -> None:
    jwk = public_jwk(PUBLIC, "hub-2026-01")
    assert jwk == {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": b64u_encode(raw_public_bytes(PUBLIC)),
        "kid": "hub-2026-01",
        "alg": "Ed25519",
        "use": "sig",
    }
    assert len(raw_public_bytes(PUBLIC)) == 32


def test_jwk_round_trip() -> None:
    jwk = public_jwk(PUBLIC, "k1")
    assert raw_public_bytes(jwk_to_public_key(jwk)) == raw_public_bytes(PUBLIC)
    assert raw_public_bytes(load_public_key(jwk)) == raw_public_bytes(PUBLIC)
    assert raw_public_bytes(load_public_key(json.dumps(jwk))) == raw_public_bytes(PUBLIC)
    assert raw_public_bytes(load_public_key(json.dumps(jwk).encode())) == raw_public_bytes(PUBLIC)


def test_minimal_and_eddsa_jwks_are_accepted() -> None:
    x = b64u_encode(raw_public_bytes(PUBLIC))
    for jwk in (
        {"kty": "OKP", "crv": "Ed25519", "x": x},
        {"kty": "OKP", "crv": "Ed25519", "x": x, "alg": "EdDSA"},
    ):
        assert raw_public_bytes(jwk_to_public_key(jwk)) == raw_public_bytes(PUBLIC)


def test_pem_round_trip() -> None:
    pem = public_key_pem(PUBLIC)
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert raw_public_bytes(load_public_key(pem)) == raw_public_bytes(PUBLIC)
    assert raw_public_bytes(load_public_key(pem.encode())) == raw_public_bytes(PUBLIC)
    assert raw_public_bytes(load_public_key("\n  " + pem + "\n\n")) == raw_public_bytes(PUBLIC)


def test_private_jwk_is_refused() -> None:
    jwk = public_jwk(PUBLIC, "k1")
    jwk["d"] = b64u_encode(
        KEY.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption())
    )
    with pytest.raises(KeyFormatError, match="private"):
        jwk_to_public_key(jwk)
    with pytest.raises(KeyFormatError, match="private"):
        load_public_key(json.dumps(jwk))


def test_private_pem_is_refused() -> None:
    with pytest.raises(KeyFormatError, match="private"):
        load_public_key(private_key_to_pem(KEY))


@pytest.mark.parametrize(
    "change",
    [
        {"crv": "X25519"},
        {"crv": "Ed448"},
        {"kty": "EC"},
        {"kty": None},
        {"alg": "ES256"},
        {"use": "enc"},
        {"x": None},
        {"x": b64u_encode(bytes(31))},
        {"x": b64u_encode(bytes(33))},
        {"x": b64u_encode(bytes(32)) + "="},
        {"x": b64u_encode(bytes(32))},  # the all-zero point has small order
        {"x": b64u_encode(b"\x01" + bytes(31))},  # the identity
        {"x": b64u_encode(b"\xff" * 31 + b"\x7f")},  # y >= p, non-canonical
    ],
    ids=[
        "x25519",
        "ed448",
        "kty-ec",
        "kty-null",
        "alg-es256",
        "use-enc",
        "x-null",
        "x-31-bytes",
        "x-33-bytes",
        "x-padded",
        "x-small-order",
        "x-identity",
        "x-noncanonical",
    ],
)
def test_bad_jwks_are_refused(change: dict[str, object]) -> None:
    jwk = {**public_jwk(PUBLIC, "k1"), **change}
    with pytest.raises(KeyFormatError):
        jwk_to_public_key(jwk)


def test_missing_x_is_refused() -> None:
    jwk = public_jwk(PUBLIC, "k1")
    del jwk["x"]
    with pytest.raises(KeyFormatError):
        jwk_to_public_key(jwk)


def test_other_key_types_are_refused() -> None:
    ec_pem = (
        ec_key(SECP256R1())
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    with pytest.raises(KeyFormatError):
        load_public_key(ec_pem)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        "hello",
        b"\xff\xfe",
        "{not json",
        "[1]",
        "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n",
        42,
    ],
)
def test_garbage_is_refused(data: object) -> None:
    with pytest.raises(KeyFormatError):
        load_public_key(data)  # type: ignore[arg-type]


def test_jwks_lookup() -> None:
    other = generate_private_key().public_key()
    key_set = jwks([public_jwk(PUBLIC, "hub-1"), public_jwk(other, "hub-2")])
    assert list(key_set) == ["keys"] and len(key_set["keys"]) == 2
    assert raw_public_bytes(key_from_jwks(key_set, "hub-1")) == raw_public_bytes(PUBLIC)
    assert raw_public_bytes(key_from_jwks(key_set, "hub-2")) == raw_public_bytes(other)


def test_jwks_unknown_kid() -> None:
    key_set = jwks([public_jwk(PUBLIC, "hub-1")])
    with pytest.raises(UnknownKid):
        key_from_jwks(key_set, "hub-9")
    with pytest.raises(UnknownKid):
        key_from_jwks(jwks([]), "hub-1")


def test_jwks_malformed_or_ambiguous() -> None:
    malformed: list[Any] = [{}, {"keys": "x"}, [], None]
    for bad in malformed:
        with pytest.raises(KeyFormatError):
            key_from_jwks(bad, "hub-1")
    twice = jwks([public_jwk(PUBLIC, "hub-1"), public_jwk(generate_private_key().public_key(), "hub-1")])
    with pytest.raises(KeyFormatError):
        key_from_jwks(twice, "hub-1")


def test_jwks_text_is_not_a_single_key() -> None:
    with pytest.raises(KeyFormatError, match="JWKS"):
        load_public_key(json.dumps(jwks([public_jwk(PUBLIC, "hub-1")])))
