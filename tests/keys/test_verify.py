"""Partner-side verification of hub-signed receipts and tree heads."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from keys import (
    EnvelopeError,
    InclusionProofError,
    ReceiptMismatch,
    SignatureInvalid,
    UnknownKid,
    canonicalize,
    generate_private_key,
    jwks,
    leaf_hash,
    public_jwk,
    reference_inclusion_path,
    root_from_leaf_hashes,
    sha256_hex,
    sign_object,
    verify_entry_inclusion,
    verify_receipt,
    verify_signed,
    verify_tree_head,
)

HUB_KEY = generate_private_key()
OLD_HUB_KEY = generate_private_key()
PARTNER_KEY = generate_private_key()
HUB_JWKS = jwks(
    [
        public_jwk(OLD_HUB_KEY.public_key(), "tangkal-2025-01"),
        public_jwk(HUB_KEY.public_key(), "tangkal-2026-01"),
    ]
)


def partner_record(
    number: str = "+6281234567890", record_id: str = "8d3f6c2e-6b1f-4f43-9a7e-0c8e2f1d9b10"
) -> dict[str, Any]:
    body = {
        "id": record_id,
        "issuer": "kominfo",
        "number": number,
        "action": "block",
        "category": "scam",
        "channels": ["sms"],
        "reason": "test",
        "evidence": {"complaints": 1},
        "observed_at": "2026-11-27T08:00:00Z",
        "issued_at": "2026-11-28T10:00:00Z",
    }
    return sign_object("record", body, PARTNER_KEY, "kominfo-2026-01")


def hub_receipt(
    signed: dict[str, Any], object_kind: str = "record", key_id: str = "tangkal-2026-01", **changes: Any
) -> dict[str, Any]:
    body = {
        "object_id": signed[object_kind]["id"],
        "kind": object_kind,
        "sha256": sha256_hex(canonicalize(signed[object_kind])),
        "seq": 7,
        "log_index": 6,
        "received_at": "2026-11-28T10:00:01.123Z",
        "hub": "tangkal",
        **changes,
    }
    key = HUB_KEY if key_id == "tangkal-2026-01" else OLD_HUB_KEY
    return sign_object("receipt", body, key, key_id)


def test_receipt_verifies_alone_and_with_its_object() -> None:
    record = partner_record()
    receipt = hub_receipt(record)
    assert verify_receipt(receipt, HUB_JWKS) == receipt["receipt"]
    assert verify_receipt(receipt, HUB_JWKS, record)["seq"] == 7


def test_receipt_from_an_old_hub_key_still_verifies() -> None:
    record = partner_record()
    verify_receipt(hub_receipt(record, key_id="tangkal-2025-01"), HUB_JWKS, record)


def test_receipt_for_an_ack() -> None:
    ack = sign_object(
        "ack",
        {
            "id": "3f0c1d7e-2a4b-4c5d-8e9f-0a1b2c3d4e5f",
            "record_id": "8d3f6c2e-6b1f-4f43-9a7e-0c8e2f1d9b10",
            "partner": "telkomsel",
            "outcome": "blocked",
            "reason": None,
            "acted_at": "2026-11-28T12:00:00Z",
        },
        PARTNER_KEY,
        "telkomsel-2026-01",
    )
    verify_receipt(hub_receipt(ack, object_kind="ack"), HUB_JWKS, ack)
    with pytest.raises(ReceiptMismatch):
        verify_receipt(hub_receipt(ack, object_kind="ack"), HUB_JWKS, partner_record(record_id=ack["ack"]["id"]))


def test_receipt_with_another_hash_is_a_mismatch() -> None:
    record = partner_record()
    receipt = hub_receipt(record, sha256=sha256_hex(b"something else"))
    verify_receipt(receipt, HUB_JWKS)  # correctly signed on its own
    with pytest.raises(ReceiptMismatch):
        verify_receipt(receipt, HUB_JWKS, record)


def test_receipt_for_changed_content_is_a_mismatch() -> None:
    receipt = hub_receipt(partner_record())
    with pytest.raises(ReceiptMismatch):
        verify_receipt(receipt, HUB_JWKS, partner_record(number="+6281234567891"))


def test_receipt_for_another_id_is_a_mismatch() -> None:
    record = partner_record()
    with pytest.raises(ReceiptMismatch):
        verify_receipt(hub_receipt(record, object_id="00000000-0000-4000-8000-000000000000"), HUB_JWKS, record)


def test_receipt_kind_must_match_the_object() -> None:
    record = partner_record()
    receipt = hub_receipt(record, object_kind="record")
    ack_shaped = {"ack": record["record"], "signature": record["signature"]}
    with pytest.raises(ReceiptMismatch):
        verify_receipt(receipt, HUB_JWKS, ack_shaped)


def test_tampered_receipt_fails() -> None:
    receipt = hub_receipt(partner_record())
    receipt["receipt"]["seq"] = 8
    with pytest.raises(SignatureInvalid):
        verify_receipt(receipt, HUB_JWKS)


def test_receipt_signed_by_a_partner_key_fails() -> None:
    record = partner_record()
    forged = sign_object("receipt", hub_receipt(record)["receipt"], PARTNER_KEY, "tangkal-2026-01")
    with pytest.raises(SignatureInvalid):
        verify_receipt(forged, HUB_JWKS, record)


def test_receipt_with_unknown_kid() -> None:
    receipt = hub_receipt(partner_record())
    receipt["signature"]["kid"] = "tangkal-2030-01"
    with pytest.raises(UnknownKid):
        verify_receipt(receipt, HUB_JWKS)


@pytest.mark.parametrize(
    "changes",
    [{"kind": "report"}, {"sha256": "ABC"}, {"seq": -1}, {"log_index": "6"}, {"hub": ""}, {"extra": 1}],
    ids=["kind", "sha256", "seq", "log_index", "hub", "extra"],
)
def test_malformed_receipt_bodies_are_refused(changes: dict[str, Any]) -> None:
    with pytest.raises(EnvelopeError):
        verify_receipt(hub_receipt(partner_record(), **changes), HUB_JWKS)


def test_receipt_envelope_shape_is_checked() -> None:
    receipt = hub_receipt(partner_record())
    receipt["extra"] = True
    with pytest.raises(EnvelopeError):
        verify_receipt(receipt, HUB_JWKS)


def signed_log(count: int) -> tuple[list[dict[str, Any]], list[bytes]]:
    objects = [partner_record(record_id=f"00000000-0000-4000-8000-{i:012d}") for i in range(count)]
    return objects, [leaf_hash(canonicalize(o)) for o in objects]


def tree_head(size: int, root: bytes, key_id: str = "tangkal-2026-01") -> dict[str, Any]:
    key = HUB_KEY if key_id == "tangkal-2026-01" else OLD_HUB_KEY
    return sign_object(
        "tree_head", {"size": size, "root_hash": root.hex(), "timestamp": "2026-11-28T10:00:02Z"}, key, key_id
    )


def test_tree_head_and_inclusion() -> None:
    objects, leaves = signed_log(11)
    head = verify_tree_head(tree_head(11, root_from_leaf_hashes(leaves)), HUB_JWKS)
    assert head["size"] == 11
    for index, signed_object in enumerate(objects):
        path_hex = [p.hex() for p in reference_inclusion_path(leaves, index)]
        verify_entry_inclusion(signed_object, index, head, path_hex)
        with pytest.raises(InclusionProofError):
            verify_entry_inclusion(signed_object, (index + 1) % 11, head, path_hex)
    # The leaf is the whole signed object: a changed signature is another leaf.
    changed = copy.deepcopy(objects[3])
    changed["signature"]["kid"] = "kominfo-2026-02"
    with pytest.raises(InclusionProofError):
        verify_entry_inclusion(changed, 3, head, [p.hex() for p in reference_inclusion_path(leaves, 3)])


def test_inclusion_path_must_be_lowercase_hex() -> None:
    objects, leaves = signed_log(4)
    head = verify_tree_head(tree_head(4, root_from_leaf_hashes(leaves)), HUB_JWKS)
    path_hex = [p.hex() for p in reference_inclusion_path(leaves, 1)]
    for bad in ([p.upper() for p in path_hex], [p[:-2] for p in path_hex], "00", [1, 2]):
        with pytest.raises(InclusionProofError):
            verify_entry_inclusion(objects[1], 1, head, bad)  # type: ignore[arg-type]


def test_tampered_tree_head_fails() -> None:
    _, leaves = signed_log(5)
    envelope = tree_head(5, root_from_leaf_hashes(leaves))
    envelope["tree_head"]["size"] = 6
    with pytest.raises(SignatureInvalid):
        verify_tree_head(envelope, HUB_JWKS)


@pytest.mark.parametrize(
    "body",
    [
        {"size": -1, "root_hash": "00" * 32, "timestamp": "2026-11-28T10:00:02Z"},
        {"size": 1, "root_hash": "00" * 31, "timestamp": "2026-11-28T10:00:02Z"},
        {"size": 1, "root_hash": "00" * 32},
        {"size": 1, "root_hash": "00" * 32, "timestamp": "2026-11-28T10:00:02Z", "extra": 1},
        {"size": True, "root_hash": "00" * 32, "timestamp": "2026-11-28T10:00:02Z"},
    ],
    ids=["negative-size", "short-root", "no-timestamp", "extra", "bool-size"],
)
def test_malformed_tree_heads_are_refused(body: dict[str, Any]) -> None:
    with pytest.raises(EnvelopeError):
        verify_tree_head(sign_object("tree_head", body, HUB_KEY, "tangkal-2026-01"), HUB_JWKS)


def test_verify_signed_returns_the_body() -> None:
    body = {
        "size": 0,
        "root_hash": "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "timestamp": "2026-11-28T10:00:02Z",
    }
    assert verify_signed(sign_object("tree_head", body, OLD_HUB_KEY, "tangkal-2025-01"), "tree_head", HUB_JWKS) == body
    with pytest.raises(EnvelopeError):
        verify_signed(sign_object("tree_head", body, HUB_KEY, "tangkal-2026-01"), "receipt", HUB_JWKS)
