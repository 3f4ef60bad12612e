"""docs/conformance/: the vectors are what the generator writes, and the partner SDK reproduces each byte for byte."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hub.ledger.tree import DictStore, consistency_path, inclusion_path, nodes_for_append, root_hash
from keys.jcs import canonicalize, sha256_hex
from keys.jwk import jwk_to_public_key
from keys.merkle import leaf_hash, verify_consistency, verify_inclusion
from keys.verify import verify_signed
from partners import builders
from partners.numbers import blocked_set_sha256

FOLDER = Path(__file__).resolve().parent.parent / "docs" / "conformance"


def _load(name: str) -> dict[str, Any]:
    return dict(json.loads((FOLDER / name).read_text(encoding="utf-8")))


def _generator() -> Any:
    spec = importlib.util.spec_from_file_location("conformance_generate", FOLDER / "generate.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


KEYS = {k["kid"]: k for k in _load("keys.json")["keys"]}
SIGNING = _load("signing.json")["vectors"]
LOG = _load("log.json")


def _private(kid: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(KEYS[kid]["seed_hex"]))


def test_the_committed_files_are_what_the_generator_writes():
    built = _generator().build()
    assert sorted(built) == sorted(p.name for p in FOLDER.glob("*.json"))
    for name, data in built.items():
        assert (FOLDER / name).read_bytes() == data, (
            f"{name} is stale: run .venv/bin/python docs/conformance/generate.py"
        )


def test_the_test_keys_are_their_published_seeds():
    for kid, entry in KEYS.items():
        key = _private(kid)
        assert jwk_to_public_key(entry["public_jwk"]).public_bytes_raw() == key.public_key().public_bytes_raw()
        assert entry["public_jwk"]["kid"] == kid and entry["public_jwk"]["alg"] == "Ed25519"


@pytest.mark.parametrize("vector", SIGNING, ids=[v["name"] for v in SIGNING])
def test_the_sdk_signs_every_vector_byte_for_byte(vector: dict[str, Any]):
    body = vector["body"]
    jcs = canonicalize(body)
    assert jcs == bytes.fromhex(vector["jcs_hex"]) == vector["jcs"].encode("utf-8")
    assert sha256_hex(jcs) == vector["sha256"]
    signed = builders.sign(vector["kind"], body, _private(vector["kid"]), vector["kid"])
    assert signed == vector["envelope"]
    assert signed["signature"]["value"] == vector["signature"]
    # and the envelope verifies with the public JWK alone, as another language would check it
    jwk_to_public_key(KEYS[vector["kid"]]["public_jwk"]).verify(
        _b64u(vector["signature"]), bytes.fromhex(vector["jcs_hex"])
    )


def _b64u(text: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def test_jcs_sorts_members_and_keeps_utf8_as_rfc_8785_says():
    """Written out by hand: what a signer in another language must produce for the first record."""
    block = next(v for v in SIGNING if v["name"] == "record-block")
    assert block["jcs"] == (
        '{"action":"block","category":"scam","channels":["voice","sms","messaging"],"confidence":90,'
        '"evidence":{"complaints":17,"ref":"ADN-2026-000123"},"expires_at":"2027-11-28T00:00:00Z",'
        '"id":"8d3f6c2e-6b1f-4f43-9a7e-0c8e2f1d9b10","issued_at":"2026-11-28T10:00:00Z","issuer":"kominfo",'
        '"number":"+6281234567890","observed_at":"2026-11-27T08:00:00Z",'
        '"reason":"Impersonates a bank; 17 verified complaints","supersedes":null}'
    )
    unicode = next(v for v in SIGNING if v["name"] == "record-unicode")
    assert "“hadiah undian” — tautan" in unicode["jcs"] and "🎁\\nkorban" in unicode["jcs"]
    assert "confidence" not in unicode["jcs"]  # absent, not null: another object, another signature


def test_the_attestation_vector_hashes_its_numbers_as_the_sdk_does():
    vector = next(v for v in SIGNING if v["name"] == "attestation")
    assert blocked_set_sha256(vector["numbers"]) == (
        vector["body"]["blocked_count"],
        vector["body"]["blocked_set_sha256"],
    )
    body = builders.attestation_body(
        "telkomsel", vector["numbers"], as_of=vector["body"]["as_of"], attestation_id=vector["body"]["id"]
    )
    assert body == vector["body"]


def test_receipts_and_tree_heads_verify_with_the_hub_test_jwks():
    jwks = _load("keys.json")["hub_jwks"]
    for leaf, receipt in zip(LOG["leaves"], LOG["receipts"], strict=True):
        body = verify_signed(receipt["envelope"], "receipt", jwks)
        assert body == receipt["body"] and canonicalize(body) == bytes.fromhex(receipt["jcs_hex"])
        kind = body["kind"]
        assert body["sha256"] == sha256_hex(canonicalize(leaf["entry"][kind]))
        assert body["log_index"] == leaf["index"] and body["seq"] == leaf["index"] + 1
    for head in LOG["tree_heads"]:
        assert verify_signed(head["envelope"], "tree_head", jwks) == head["body"]


def test_leaves_roots_and_proofs_match_the_hubs_own_tree():
    leaves = [bytes.fromhex(leaf["leaf_data_hex"]) for leaf in LOG["leaves"]]
    for leaf, data in zip(LOG["leaves"], leaves, strict=True):
        assert canonicalize(leaf["entry"]) == data
        assert leaf_hash(data).hex() == leaf["leaf_hash"]
    store = DictStore()
    size = 0
    for data in leaves:
        store.add(nodes_for_append(store, size, [leaf_hash(data)]))
        size += 1
        head = LOG["tree_heads"][size - 1]["body"]
        assert root_hash(store, size).hex() == head["root_hash"]
    roots = {h["size"]: bytes.fromhex(h["body"]["root_hash"]) for h in LOG["tree_heads"]}
    for proof in LOG["inclusion"]:
        path = [bytes.fromhex(h) for h in proof["path"]]
        assert [h.hex() for h in inclusion_path(store, proof["index"], proof["size"])] == proof["path"]
        verify_inclusion(proof["index"], proof["size"], bytes.fromhex(proof["leaf_hash"]), path, roots[proof["size"]])
    for proof in LOG["consistency"]:
        path = [bytes.fromhex(h) for h in proof["path"]]
        if proof["first"] != proof["second"]:
            assert [h.hex() for h in consistency_path(store, proof["first"], proof["second"])] == proof["path"]
        verify_consistency(proof["first"], proof["second"], roots[proof["first"]], roots[proof["second"]], path)
    assert len(LOG["inclusion"]) == 15 and len(LOG["consistency"]) == 15


def test_protocol_notes_point_integrators_to_the_vectors():
    notes = (FOLDER.parent / "protocol.md").read_text(encoding="utf-8")
    assert "docs/conformance/" in notes or "conformance/" in notes
    assert (FOLDER / "README.md").is_file()
